#pragma once
// The DLQ as a MessageSink: SendMessageBatch packed by count and size; the
// client resends entries that failed without sender fault and names the
// ones that finally failed, which fail the object.

#include <string>

#include "aws/sqs.hpp"
#include "pipeline/sinks.hpp"

namespace salesflow::pipeline {

class SqsMessageSink final : public MessageSink {
 public:
  SqsMessageSink(aws::SqsClient& client, std::string queue_url, std::size_t max_batch_bytes);

  std::size_t max_batch_messages() const override { return aws::SqsClient::kMaxBatchEntries; }
  void send(std::vector<Message> messages,
            std::function<void(std::size_t failed, std::string error)> done,
            std::atomic<std::uint64_t>* retries) override;

 private:
  aws::SqsClient& client_;
  std::string queue_url_;
  std::size_t max_batch_bytes_;
};

}  // namespace salesflow::pipeline
