#include "pipeline/sqs_sink.hpp"

#include <algorithm>

namespace salesflow::pipeline {

SqsMessageSink::SqsMessageSink(aws::SqsClient& client, std::string queue_url,
                               std::size_t max_batch_bytes)
    : client_(client),
      queue_url_(std::move(queue_url)),
      max_batch_bytes_(max_batch_bytes),
      fifo_(aws::is_fifo_queue(queue_url_)) {}

void SqsMessageSink::send(std::vector<Message> messages,
                          std::function<void(std::size_t, std::string)> done,
                          std::atomic<std::uint64_t>* retries) {
  std::vector<aws::OutgoingMessage> outgoing;
  outgoing.reserve(messages.size());
  for (auto& message : messages) {
    aws::OutgoingMessage entry{std::move(message.body), {{"envelope_id", message.id}}, {}, {}};
    if (fifo_) {
      entry.group_id = message.id;
      entry.deduplication_id = message.id;
    }
    outgoing.push_back(std::move(entry));
  }
  const std::size_t count = outgoing.size();
  aws::SendBatchOptions options;
  options.max_batch_bytes = max_batch_bytes_;
  options.retry_counter = retries;
  client_.send_batch_async(
      queue_url_, std::move(outgoing),
      [count, done = std::move(done)](aws::SendBatchOutcome outcome) {
        // Durable means acknowledged with a message id; anything else failed.
        std::size_t sent = 0;
        for (const auto& id : outcome.message_ids) {
          sent += id.empty() ? 0 : 1;
        }
        const std::size_t failed = count - std::min(sent, count);
        std::string error;
        if (outcome.error) {
          error = outcome.error->to_string();
        } else if (!outcome.failed.empty()) {
          const auto& first = outcome.failed.front();
          error = first.code + ": " + first.message;
        }
        done(failed, std::move(error));
      },
      options);
}

}  // namespace salesflow::pipeline
