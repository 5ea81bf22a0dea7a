#pragma once
// The DLQ as a MessageSink: SendMessageBatch packed by count and size; the
// client resends entries that failed without sender fault and names the
// ones that finally failed, which fail the object.
//
// A FIFO DLQ (its URL ends in ".fifo") gets each envelope's id as the
// MessageDeduplicationId, so SQS itself drops a repeat sent within 5 minutes
// (after a crash or a lost lease), and the same id as the MessageGroupId: SQS
// holds back the later messages of a group while earlier ones are in flight,
// so one group per source file would let a reader see at most 10 of its
// rejects without deleting them; envelopes have no order that matters.

#include <string>

#include "aws/sqs.hpp"
#include "pipeline/sinks.hpp"

namespace salesflow::pipeline {

class SqsMessageSink final : public MessageSink {
 public:
  SqsMessageSink(aws::SqsClient& client, std::string queue_url, std::size_t max_batch_bytes);
  [[nodiscard]] const std::string& queue_url() const { return queue_url_; }

  [[nodiscard]] std::size_t max_batch_messages() const override {
    return aws::SqsClient::kMaxBatchEntries;
  }
  void send(std::vector<Message> messages, SendDone done,
            std::atomic<std::uint64_t>* retries) override;

 private:
  aws::SqsClient& client_;
  std::string queue_url_;
  std::size_t max_batch_bytes_;
  bool fifo_;
};

}  // namespace salesflow::pipeline
