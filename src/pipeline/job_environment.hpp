#pragma once
// JobEnvironment: the one owner of what the jobs of one process need
// (run_object_job, src/pipeline/object_job.hpp). It owns
//  - the rules, from which each object thread makes its own RecordValidator
//    (a validator is not shared; the rules are read only);
//  - the ledger, under this process's owner name (claims, leases, checkpoints);
//  - the sinks: DynamoDB items, DLQ messages, S3 offload blobs;
//  - the processor options (reader, backpressure, checkpoints, envelopes).
// It borrows the AWS clients (app::AwsClients owns them and outlives it) and
// the observer (the command's app::Observers, told what happens to every
// object). One per process, shared by every object thread of the worker, the
// process command and the Lambda function: the clients, the ledger and the
// sinks are thread-safe, the rest is read only once built.
//
// It needs nothing from app: the command translates its settings into
// JobOptions (app::make_job_environment, src/app/detail/aws_clients.hpp).

#include <chrono>
#include <string>

#include "aws/dynamodb.hpp"
#include "aws/s3.hpp"
#include "aws/sqs.hpp"
#include "core/rules.hpp"
#include "pipeline/detail/dynamodb_sink.hpp"
#include "pipeline/detail/s3_blob_sink.hpp"
#include "pipeline/detail/sqs_sink.hpp"
#include "pipeline/ledger.hpp"
#include "pipeline/object_processor.hpp"

namespace salesflow::pipeline {

// The AWS clients the jobs call, borrowed for the environment's lifetime.
struct JobClients {
  aws::S3Client& s3;
  aws::DynamoDbClient& dynamodb;
  aws::SqsClient& sqs;
};

struct JobOptions {
  std::string ledger_table;
  std::chrono::seconds lease{120};
  std::string owner;    // this process in ledger leases; empty: make_owner()
  std::string dlq_url;  // where incomplete records' envelopes go
  // The table and the conflict mode; the partition key attribute comes from
  // the rules.
  DynamoDbSinkOptions items;
  // Also the DLQ's message size (envelopes.max_message_bytes) and the observer.
  ProcessorOptions processor;
};

class JobEnvironment {
 public:
  JobEnvironment(JobClients clients, core::Rules rules, JobOptions options);
  JobEnvironment(const JobEnvironment&) = delete;
  JobEnvironment& operator=(const JobEnvironment&) = delete;

  [[nodiscard]] const core::Rules& rules() const { return rules_; }
  [[nodiscard]] const ProcessorOptions& options() const { return options_; }
  [[nodiscard]] Observer* observer() const { return options_.observer; }
  [[nodiscard]] aws::S3Client& s3() { return s3_; }
  [[nodiscard]] Ledger& ledger() { return ledger_; }
  [[nodiscard]] ItemSink& items() { return items_; }
  [[nodiscard]] MessageSink& messages() { return messages_; }
  // The DLQ's URL, resolved once when the environment was made.
  [[nodiscard]] const std::string& dlq_url() const { return messages_.queue_url(); }
  [[nodiscard]] BlobSink& blobs() { return blobs_; }

  // "host/pid/random": this process in ledger leases.
  [[nodiscard]] static std::string make_owner();

 private:
  aws::S3Client& s3_;
  core::Rules rules_;
  ProcessorOptions options_;
  Ledger ledger_;
  DynamoDbItemSink items_;
  SqsMessageSink messages_;
  S3BlobSink blobs_;
};

}  // namespace salesflow::pipeline
