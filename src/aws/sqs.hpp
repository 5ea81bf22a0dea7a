#pragma once
// SQS over the AWS JSON 1.0 protocol. Queue URLs are opaque: requests go to
// the service endpoint with QueueUrl in the body.

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "aws/service.hpp"

namespace salesflow::aws {

struct SqsMessage {
  std::string message_id;
  std::string receipt_handle;
  std::string body;
  std::map<std::string, std::string> attributes;          // ApproximateReceiveCount, ...
  std::map<std::string, std::string> message_attributes;  // String/Number values
  int receive_count() const;                              // 0 when not requested
};

struct ReceiveOptions {
  int max_messages = 10;
  int wait_seconds = 20;  // long poll
  std::optional<int> visibility_timeout;
  std::vector<std::string> attribute_names = {"All"};
  std::vector<std::string> message_attribute_names = {"All"};
};

struct OutgoingMessage {
  std::string body;
  std::map<std::string, std::string> attributes;  // sent as DataType String
  // FIFO queues only (empty: not sent). SQS drops a message whose
  // deduplication id it accepted within the last 5 minutes, and answers it as sent.
  std::string group_id;
  std::string deduplication_id;
};

// Whether a queue (by name or URL) is a FIFO queue: SQS requires the ".fifo" suffix.
[[nodiscard]] inline bool is_fifo_queue(std::string_view name_or_url) {
  return name_or_url.ends_with(".fifo");
}

struct EntryFailure {
  std::size_t index = 0;  // into the input
  std::string code;
  std::string message;
  bool sender_fault = false;
};

struct SendBatchOptions {
  std::size_t max_batch_bytes = std::size_t{256} << 10;  // 1 MiB is allowed on AWS
  std::optional<RetryPolicy> policy;  // rounds for failed entries; the client's when empty
  // Counts retried requests and rounds resending failed entries; must outlive the call.
  std::atomic<std::uint64_t>* retry_counter = nullptr;
};

struct [[nodiscard]] SendBatchOutcome {
  std::vector<std::string> message_ids;  // per input entry; empty where it failed
  std::vector<EntryFailure> failed;      // every entry that finally failed, by index
  std::optional<AwsError> error;         // a whole request that failed
  bool ok() const { return failed.empty() && !error; }
};

struct [[nodiscard]] BatchOutcome {  // DeleteMessageBatch, ChangeMessageVisibilityBatch
  std::vector<EntryFailure> failed;
  bool ok() const { return failed.empty(); }
};

struct VisibilityChange {
  std::string receipt_handle;
  int visibility_timeout = 0;
};

class SqsClient {
 public:
  [[nodiscard]] static Result<SqsClient> create(ClientConfig config);

  void receive_async(std::string queue_url, ReceiveOptions options,
                     std::function<void(Result<std::vector<SqsMessage>>)> done);
  [[nodiscard]] Result<std::vector<SqsMessage>> receive(std::string queue_url,
                                                        ReceiveOptions options = {});

  // Packs entries by count (10) and size, verifies MD5OfMessageBody, resends
  // entries that failed without sender fault.
  void send_batch_async(std::string queue_url, std::vector<OutgoingMessage> messages,
                        std::function<void(SendBatchOutcome)> done, SendBatchOptions options = {});
  [[nodiscard]] SendBatchOutcome send_batch(std::string queue_url,
                                            std::vector<OutgoingMessage> messages,
                                            SendBatchOptions options = {});
  [[nodiscard]] Result<std::string> send(std::string queue_url,
                                         OutgoingMessage message);  // message id

  void delete_batch_async(std::string queue_url, std::vector<std::string> receipt_handles,
                          std::function<void(Result<BatchOutcome>)> done);
  [[nodiscard]] Result<BatchOutcome> delete_batch(std::string queue_url,
                                                  std::vector<std::string> receipt_handles);

  [[nodiscard]] Result<void> change_visibility(std::string queue_url, VisibilityChange change);
  void change_visibility_batch_async(std::string queue_url, std::vector<VisibilityChange> changes,
                                     std::function<void(Result<BatchOutcome>)> done);
  [[nodiscard]] Result<BatchOutcome> change_visibility_batch(std::string queue_url,
                                                             std::vector<VisibilityChange> changes);

  [[nodiscard]] Result<std::string> get_queue_url(std::string queue_name);
  // Idempotent for equal attributes; returns the queue URL.
  [[nodiscard]] Result<std::string> create_queue(
      std::string queue_name, std::map<std::string, std::string> attributes = {});
  [[nodiscard]] Result<std::map<std::string, std::string>> get_queue_attributes(
      std::string queue_url, std::vector<std::string> names = {"All"});
  [[nodiscard]] Result<void> set_queue_attributes(std::string queue_url,
                                                  std::map<std::string, std::string> attributes);
  [[nodiscard]] Result<void> purge_queue(std::string queue_url);
  [[nodiscard]] Result<void> delete_queue(std::string queue_url);

  static constexpr std::size_t kMaxBatchEntries = 10;

 private:
  explicit SqsClient(std::shared_ptr<ServiceRuntime> runtime) : runtime_(std::move(runtime)) {}
  ServiceCall make_call(std::string operation, std::string body) const;
  // An operation whose request names only the queue and whose answer has nothing to read.
  [[nodiscard]] Result<void> queue_call(std::string operation, std::string_view queue_url);
  std::shared_ptr<ServiceRuntime> runtime_;
};

}  // namespace salesflow::aws
