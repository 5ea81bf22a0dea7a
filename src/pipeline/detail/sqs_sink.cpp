#include "pipeline/detail/sqs_sink.hpp"

#include <algorithm>

namespace salesflow::pipeline {

SqsMessageSink::SqsMessageSink(aws::SqsClient& client, std::string queue_url,
                               std::size_t max_batch_bytes)
    : client_(client),
      queue_url_(std::move(queue_url)),
      max_batch_bytes_(max_batch_bytes),
      fifo_(aws::is_fifo_queue(queue_url_)) {}

void SqsMessageSink::send(std::vector<Message> messages, SendDone done,
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
        std::optional<aws::AwsError> error = std::move(outcome.error);
        if (!error && !outcome.failed.empty()) {
          // Entries SQS refused one by one (the request itself succeeded).
          const auto& first = outcome.failed.front();
          error = aws::AwsError{.service = "sqs",
                                .operation = "SendMessageBatch",
                                .http_status = 200,
                                .code = first.code,
                                .message = first.message,
                                .request_id = {},
                                .retryable = !first.sender_fault,
                                .attempts = 1};
        } else if (!error && failed != 0) {
          error = aws::AwsError{.service = "sqs",
                                .operation = "SendMessageBatch",
                                .http_status = 200,
                                .code = "MissingMessageId",
                                .message = "the answer named no message id for " +
                                           std::to_string(failed) + " entries",
                                .request_id = {},
                                .retryable = true,
                                .attempts = 1};
        }
        done(failed, std::move(error));
      },
      options);
}

}  // namespace salesflow::pipeline
