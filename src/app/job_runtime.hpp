#pragma once
// What `worker` and `process` both run objects with: the ledger, the sinks
// and the processor options, built from the settings.

#include <memory>
#include <string>
#include <tl/expected.hpp>

#include "app/aws_clients.hpp"
#include "app/settings.hpp"
#include "pipeline/dynamodb_sink.hpp"
#include "pipeline/ledger.hpp"
#include "pipeline/object_job.hpp"
#include "pipeline/s3_blob_sink.hpp"
#include "pipeline/sqs_sink.hpp"

namespace salesflow::app {

class JobRuntime {
 public:
  // Resolves the DLQ's URL; errors are one line. `observer` (borrowed, may be
  // null) is told what happens to every object run with this environment.
  [[nodiscard]] static tl::expected<std::unique_ptr<JobRuntime>, std::string> create(
      AwsClients& aws, const Settings& settings, const core::Rules& rules,
      pipeline::Observer* observer);

  JobRuntime(AwsClients& aws, const Settings& settings, const core::Rules& rules,
             std::string dlq_url, pipeline::Observer* observer);

  pipeline::JobEnvironment& environment() { return environment_; }
  pipeline::Ledger& ledger() { return ledger_; }

  // "host/pid/random": this process in ledger leases.
  static std::string make_owner();

 private:
  pipeline::Ledger ledger_;
  pipeline::DynamoDbItemSink items_;
  pipeline::SqsMessageSink messages_;
  pipeline::S3BlobSink blobs_;
  pipeline::JobEnvironment environment_;
};

}  // namespace salesflow::app
