#include "aws/sqs.hpp"

#include <fmt/format.h>

#include <charconv>
#include <mutex>
#include <numeric>
#include <utility>

#include "aws/service_json.hpp"
#include "base/digest.hpp"

namespace salesflow::aws {

namespace {

constexpr std::string_view kTarget = "AmazonSQS";

void write_string_array(JsonWriter& writer, std::string_view key,
                        const std::vector<std::string>& values) {
  if (values.empty()) return;
  write_key(writer, key);
  writer.StartArray();
  for (const auto& value : values) write_string(writer, value);
  writer.EndArray();
}

// {"name": "value", ...} under `key`.
void write_string_map(JsonWriter& writer, std::string_view key,
                      const std::map<std::string, std::string>& values) {
  write_key(writer, key);
  writer.StartObject();
  for (const auto& [name, value] : values) {
    write_member(writer, name, value);
  }
  writer.EndObject();
}

// "Entries": [{"Id": "<position>", ...}, ...]; `entry(position)` writes the
// rest of each. Answers name entries by that Id.
template <class Entry>
void write_entries(JsonWriter& writer, std::size_t count, Entry&& entry) {
  write_key(writer, "Entries");
  writer.StartArray();
  for (std::size_t position = 0; position < count; ++position) {
    writer.StartObject();
    write_member(writer, "Id", std::to_string(position));
    entry(position);
    writer.EndObject();
  }
  writer.EndArray();
}

// The string-valued members of an object; others are skipped.
std::map<std::string, std::string> string_members(simdjson::dom::object object) {
  std::map<std::string, std::string> members;
  for (const auto field : object) {
    std::string_view value;
    if (field.value.get(value) == simdjson::SUCCESS) members.emplace(field.key, value);
  }
  return members;
}

void write_fifo_members(JsonWriter& writer, const OutgoingMessage& message) {
  if (!message.group_id.empty()) write_member(writer, "MessageGroupId", message.group_id);
  if (!message.deduplication_id.empty())
    write_member(writer, "MessageDeduplicationId", message.deduplication_id);
}

void write_message_attributes(JsonWriter& writer,
                              const std::map<std::string, std::string>& attributes) {
  if (attributes.empty()) return;
  write_key(writer, "MessageAttributes");
  writer.StartObject();
  for (const auto& [name, value] : attributes) {
    write_key(writer, name);
    writer.StartObject();
    write_member(writer, "DataType", "String");
    write_member(writer, "StringValue", value);
    writer.EndObject();
  }
  writer.EndObject();
}

std::string queue_url_of(simdjson::dom::element root) {
  return string_member(root, "QueueUrl");
}

std::vector<SqsMessage> parse_messages(simdjson::dom::element root) {
  std::vector<SqsMessage> messages;
  simdjson::dom::array list;
  if (root["Messages"].get(list) != simdjson::SUCCESS) return messages;
  for (const auto node : list) {
    SqsMessage message;
    message.message_id = string_member(node, "MessageId");
    message.receipt_handle = string_member(node, "ReceiptHandle");
    message.body = string_member(node, "Body");
    simdjson::dom::object attributes;
    if (node["Attributes"].get(attributes) == simdjson::SUCCESS) {
      message.attributes = string_members(attributes);
    }
    simdjson::dom::object message_attributes;
    if (node["MessageAttributes"].get(message_attributes) == simdjson::SUCCESS) {
      for (const auto field : message_attributes) {
        message.message_attributes.emplace(field.key, string_member(field.value, "StringValue"));
      }
    }
    messages.push_back(std::move(message));
  }
  return messages;
}

// Failed entries of a batch response, by the numeric Id we gave each entry.
std::vector<EntryFailure> parse_failed(simdjson::dom::element root,
                                       const std::vector<std::size_t>& ids) {
  std::vector<EntryFailure> failed;
  simdjson::dom::array list;
  if (root["Failed"].get(list) != simdjson::SUCCESS) return failed;
  for (const auto node : list) {
    const std::string id = string_member(node, "Id");
    std::size_t position = 0;
    std::from_chars(id.data(), id.data() + id.size(), position);
    EntryFailure failure;
    failure.index = position < ids.size() ? ids[position] : position;
    failure.code = string_member(node, "Code");
    failure.message = string_member(node, "Message");
    bool sender_fault = false;
    if (node["SenderFault"].get(sender_fault) == simdjson::SUCCESS)
      failure.sender_fault = sender_fault;
    failed.push_back(std::move(failure));
  }
  return failed;
}

struct SendAggregate {
  std::mutex mutex;
  std::size_t groups_left = 0;
  SendBatchOutcome outcome;
  std::function<void(SendBatchOutcome)> done;

  void group_finished() {
    std::function<void(SendBatchOutcome)> finish_call;
    SendBatchOutcome result;
    {
      const std::lock_guard lock(mutex);
      if (--groups_left != 0) return;
      std::sort(outcome.failed.begin(), outcome.failed.end(),
                [](const auto& a, const auto& b) { return a.index < b.index; });
      result = std::move(outcome);
      finish_call = std::move(done);
    }
    finish_call(std::move(result));
  }
};

struct SendGroup : std::enable_shared_from_this<SendGroup> {
  std::shared_ptr<ServiceRuntime> runtime;
  std::shared_ptr<const std::vector<OutgoingMessage>> messages;
  std::shared_ptr<SendAggregate> aggregate;
  std::string queue_url;
  std::vector<std::size_t> pending;
  RetryPolicy policy;
  std::atomic<std::uint64_t>* retry_counter = nullptr;
  std::chrono::steady_clock::time_point started;
  int rounds = 0;

  void send() {
    if (rounds > 0 && retry_counter != nullptr) {
      ++*retry_counter;  // a round resending failed entries
    }
    ++rounds;
    std::string body = json_object([&](JsonWriter& writer) {
      write_member(writer, "QueueUrl", queue_url);
      write_entries(writer, pending.size(), [&](std::size_t position) {
        const OutgoingMessage& message = (*messages)[pending[position]];
        write_member(writer, "MessageBody", message.body);
        write_message_attributes(writer, message.attributes);
        write_fifo_members(writer, message);
      });
    });
    ServiceCall call = runtime->json_call(kTarget, "SendMessageBatch", std::move(body));
    call.retry_counter = retry_counter;
    runtime->call(std::move(call), [self = shared_from_this()](Result<HttpResponse> result) {
      self->on_response(std::move(result));
    });
  }

  void fail_all(const std::vector<std::size_t>& indices, const AwsError& error) {
    const std::lock_guard lock(aggregate->mutex);
    for (const std::size_t index : indices) {
      aggregate->outcome.failed.push_back({index, error.code, error.message, false});
    }
    if (!aggregate->outcome.error) aggregate->outcome.error = error;
  }

  void on_response(Result<HttpResponse> result) {
    if (!result) {
      fail_all(pending, result.error());
      return aggregate->group_finished();
    }
    simdjson::dom::parser parser;
    auto root = parse_json_body(parser, *result, *runtime, "SendMessageBatch");
    if (!root) {
      fail_all(pending, root.error());
      return aggregate->group_finished();
    }
    std::vector<std::size_t> retry;
    std::vector<EntryFailure> final_failures;
    std::vector<bool> answered(pending.size(), false);
    simdjson::dom::array successful;
    if ((*root)["Successful"].get(successful) == simdjson::SUCCESS) {
      const std::lock_guard lock(aggregate->mutex);
      for (const auto node : successful) {
        const std::string id = string_member(node, "Id");
        std::size_t position = pending.size();
        std::from_chars(id.data(), id.data() + id.size(), position);
        if (position >= pending.size()) continue;
        answered[position] = true;
        const std::size_t index = pending[position];
        // A body that arrived altered is resent rather than trusted.
        if (string_member(node, "MD5OfMessageBody") != base::md5_hex((*messages)[index].body)) {
          retry.push_back(index);
          continue;
        }
        aggregate->outcome.message_ids[index] = string_member(node, "MessageId");
      }
    }
    for (EntryFailure& failure : parse_failed(*root, pending)) {
      for (std::size_t position = 0; position < pending.size(); ++position) {
        if (pending[position] == failure.index) answered[position] = true;
      }
      if (failure.sender_fault) {
        final_failures.push_back(std::move(failure));
      } else {
        retry.push_back(failure.index);
      }
    }
    for (std::size_t position = 0; position < pending.size(); ++position) {
      if (!answered[position]) retry.push_back(pending[position]);  // neither: ask again
    }
    std::sort(retry.begin(), retry.end());
    const auto delay = runtime->retry_strategy().backoff(rounds - 1, policy);
    const bool deadline_ok =
        !policy.deadline || std::chrono::steady_clock::now() + delay < started + *policy.deadline;
    if (!retry.empty() && rounds < policy.max_attempts && deadline_ok) {
      {
        const std::lock_guard lock(aggregate->mutex);
        for (auto& failure : final_failures)
          aggregate->outcome.failed.push_back(std::move(failure));
      }
      pending = std::move(retry);
      runtime->http().schedule(delay, [self = shared_from_this()] { self->send(); });
      return;
    }
    {
      const std::lock_guard lock(aggregate->mutex);
      for (auto& failure : final_failures) aggregate->outcome.failed.push_back(std::move(failure));
      for (const std::size_t index : retry) {
        aggregate->outcome.failed.push_back(
            {index, "BatchEntryFailed", fmt::format("entry still failing after {} rounds", rounds),
             false});
      }
    }
    aggregate->group_finished();
  }
};

// A batch call on a queue with `count` entries, each written by
// `entry(writer, position)`; failed entries come back by position.
template <class Entry>
void entries_call(const std::shared_ptr<ServiceRuntime>& runtime, std::string operation,
                  std::string_view queue_url, std::size_t count, Entry&& entry,
                  std::function<void(Result<BatchOutcome>)> done) {
  std::string body = json_object([&](JsonWriter& writer) {
    write_member(writer, "QueueUrl", queue_url);
    write_entries(writer, count, [&](std::size_t position) { entry(writer, position); });
  });
  std::vector<std::size_t> positions(count);
  std::iota(positions.begin(), positions.end(), std::size_t{0});
  call_json(
      runtime, runtime->json_call(kTarget, std::move(operation), std::move(body)),
      [positions = std::move(positions)](simdjson::dom::element root) {
        return BatchOutcome{parse_failed(root, positions)};
      },
      std::move(done));
}

}  // namespace

int SqsMessage::receive_count() const {
  const auto found = attributes.find("ApproximateReceiveCount");
  int count = 0;
  if (found != attributes.end()) {
    std::from_chars(found->second.data(), found->second.data() + found->second.size(), count);
  }
  return count;
}

Result<SqsClient> SqsClient::create(ClientConfig config) {
  auto runtime = ServiceRuntime::create(std::move(config), "sqs", "sqs", "sqs", parse_json_error);
  if (!runtime) return tl::unexpected(runtime.error());
  return SqsClient(std::move(*runtime));
}

ServiceCall SqsClient::make_call(std::string operation, std::string body) const {
  return runtime_->json_call(kTarget, std::move(operation), std::move(body));
}

void SqsClient::receive_async(std::string queue_url, ReceiveOptions options,
                              std::function<void(Result<std::vector<SqsMessage>>)> done) {
  std::string body = json_object([&](JsonWriter& writer) {
    write_member(writer, "QueueUrl", queue_url);
    write_key(writer, "MaxNumberOfMessages");
    writer.Int(options.max_messages);
    write_key(writer, "WaitTimeSeconds");
    writer.Int(options.wait_seconds);
    if (options.visibility_timeout) {
      write_key(writer, "VisibilityTimeout");
      writer.Int(*options.visibility_timeout);
    }
    write_string_array(writer, "AttributeNames", options.attribute_names);
    write_string_array(writer, "MessageSystemAttributeNames", options.attribute_names);
    write_string_array(writer, "MessageAttributeNames", options.message_attribute_names);
  });
  ServiceCall call = make_call("ReceiveMessage", std::move(body));
  // The long poll holds the response back for up to wait_seconds.
  call.http.timeout =
      std::chrono::seconds(options.wait_seconds) + runtime_->http().options().request_timeout;
  call_json(runtime_, std::move(call), parse_messages, std::move(done));
}

Result<std::vector<SqsMessage>> SqsClient::receive(std::string queue_url, ReceiveOptions options) {
  return runtime_->wait_for<std::vector<SqsMessage>>("ReceiveMessage", [&](auto done) {
    receive_async(std::move(queue_url), std::move(options), std::move(done));
  });
}

void SqsClient::send_batch_async(std::string queue_url, std::vector<OutgoingMessage> messages,
                                 std::function<void(SendBatchOutcome)> done,
                                 SendBatchOptions options) {
  if (messages.empty()) return done(SendBatchOutcome{});
  auto shared = std::make_shared<const std::vector<OutgoingMessage>>(std::move(messages));
  auto aggregate = std::make_shared<SendAggregate>();
  aggregate->done = std::move(done);
  aggregate->outcome.message_ids.resize(shared->size());
  const RetryPolicy policy = options.policy.value_or(runtime_->config().retry);

  std::vector<std::size_t> sizes;
  sizes.reserve(shared->size());
  for (const OutgoingMessage& message : *shared) {
    std::size_t bytes = message.body.size();
    for (const auto& [name, value] : message.attributes) {
      bytes += name.size() + value.size() + 6;  // "String"
    }
    sizes.push_back(bytes);
  }
  auto groups = pack_batches(sizes, kMaxBatchEntries, options.max_batch_bytes);
  aggregate->groups_left = groups.size();
  for (auto& indices : groups) {
    auto group = std::make_shared<SendGroup>();
    group->runtime = runtime_;
    group->messages = shared;
    group->aggregate = aggregate;
    group->queue_url = queue_url;
    group->pending = std::move(indices);
    group->policy = policy;
    group->started = std::chrono::steady_clock::now();
    group->retry_counter = options.retry_counter;
    group->send();
  }
}

SendBatchOutcome SqsClient::send_batch(std::string queue_url, std::vector<OutgoingMessage> messages,
                                       SendBatchOptions options) {
  if (runtime_->http().on_io_thread()) {
    SendBatchOutcome outcome;
    outcome.message_ids.resize(messages.size());
    for (std::size_t i = 0; i < messages.size(); ++i)
      outcome.failed.push_back({i, "BlockingCallOnIoThread", "", false});
    outcome.error = runtime_->io_thread_error("SendMessageBatch");
    return outcome;
  }
  return block_on<SendBatchOutcome>([&](auto done) {
    send_batch_async(std::move(queue_url), std::move(messages), std::move(done),
                     std::move(options));
  });
}

Result<std::string> SqsClient::send(std::string queue_url, OutgoingMessage message) {
  std::string body = json_object([&](JsonWriter& writer) {
    write_member(writer, "QueueUrl", queue_url);
    write_member(writer, "MessageBody", message.body);
    write_message_attributes(writer, message.attributes);
    write_fifo_members(writer, message);
  });
  auto result = runtime_->call_blocking(make_call("SendMessage", std::move(body)));
  if (!result) return tl::unexpected(std::move(result.error()));
  simdjson::dom::parser parser;
  auto root = parse_json_body(parser, *result, *runtime_, "SendMessage");
  if (!root) return tl::unexpected(std::move(root.error()));
  if (string_member(*root, "MD5OfMessageBody") != base::md5_hex(message.body)) {
    return tl::unexpected(runtime_->annotate(
        AwsError{"", "", result->status, "ChecksumMismatch",
                 "MD5OfMessageBody does not match the body sent", request_id_of(*result), true, 1},
        "SendMessage", 1));
  }
  return string_member(*root, "MessageId");
}

void SqsClient::delete_batch_async(std::string queue_url, std::vector<std::string> receipt_handles,
                                   std::function<void(Result<BatchOutcome>)> done) {
  entries_call(
      runtime_, "DeleteMessageBatch", queue_url, receipt_handles.size(),
      [&](JsonWriter& writer, std::size_t position) {
        write_member(writer, "ReceiptHandle", receipt_handles[position]);
      },
      std::move(done));
}

Result<BatchOutcome> SqsClient::delete_batch(std::string queue_url,
                                             std::vector<std::string> receipt_handles) {
  return runtime_->wait_for<BatchOutcome>("DeleteMessageBatch", [&](auto done) {
    delete_batch_async(std::move(queue_url), std::move(receipt_handles), std::move(done));
  });
}

Result<void> SqsClient::change_visibility(std::string queue_url, VisibilityChange change) {
  std::string body = json_object([&](JsonWriter& writer) {
    write_member(writer, "QueueUrl", queue_url);
    write_member(writer, "ReceiptHandle", change.receipt_handle);
    write_key(writer, "VisibilityTimeout");
    writer.Int(change.visibility_timeout);
  });
  return without_body(
      runtime_->call_blocking(make_call("ChangeMessageVisibility", std::move(body))));
}

void SqsClient::change_visibility_batch_async(std::string queue_url,
                                              std::vector<VisibilityChange> changes,
                                              std::function<void(Result<BatchOutcome>)> done) {
  entries_call(
      runtime_, "ChangeMessageVisibilityBatch", queue_url, changes.size(),
      [&](JsonWriter& writer, std::size_t position) {
        write_member(writer, "ReceiptHandle", changes[position].receipt_handle);
        write_key(writer, "VisibilityTimeout");
        writer.Int(changes[position].visibility_timeout);
      },
      std::move(done));
}

Result<BatchOutcome> SqsClient::change_visibility_batch(std::string queue_url,
                                                        std::vector<VisibilityChange> changes) {
  return runtime_->wait_for<BatchOutcome>("ChangeMessageVisibilityBatch", [&](auto done) {
    change_visibility_batch_async(std::move(queue_url), std::move(changes), std::move(done));
  });
}

Result<std::string> SqsClient::get_queue_url(std::string queue_name) {
  std::string body =
      json_object([&](JsonWriter& writer) { write_member(writer, "QueueName", queue_name); });
  return call_json_blocking(*runtime_, make_call("GetQueueUrl", std::move(body)), queue_url_of);
}

Result<std::string> SqsClient::create_queue(std::string queue_name,
                                            std::map<std::string, std::string> attributes) {
  std::string body = json_object([&](JsonWriter& writer) {
    write_member(writer, "QueueName", queue_name);
    if (!attributes.empty()) write_string_map(writer, "Attributes", attributes);
  });
  return call_json_blocking(*runtime_, make_call("CreateQueue", std::move(body)), queue_url_of);
}

Result<std::map<std::string, std::string>> SqsClient::get_queue_attributes(
    std::string queue_url, std::vector<std::string> names) {
  std::string body = json_object([&](JsonWriter& writer) {
    write_member(writer, "QueueUrl", queue_url);
    write_string_array(writer, "AttributeNames", names);
  });
  return call_json_blocking(*runtime_, make_call("GetQueueAttributes", std::move(body)),
                            [](simdjson::dom::element root) {
                              simdjson::dom::object attributes;
                              if (root["Attributes"].get(attributes) != simdjson::SUCCESS) {
                                return std::map<std::string, std::string>{};
                              }
                              return string_members(attributes);
                            });
}

Result<void> SqsClient::set_queue_attributes(std::string queue_url,
                                             std::map<std::string, std::string> attributes) {
  std::string body = json_object([&](JsonWriter& writer) {
    write_member(writer, "QueueUrl", queue_url);
    write_string_map(writer, "Attributes", attributes);
  });
  return without_body(runtime_->call_blocking(make_call("SetQueueAttributes", std::move(body))));
}

Result<void> SqsClient::purge_queue(std::string queue_url) {
  return queue_call("PurgeQueue", queue_url);
}

Result<void> SqsClient::delete_queue(std::string queue_url) {
  return queue_call("DeleteQueue", queue_url);
}

Result<void> SqsClient::queue_call(std::string operation, std::string_view queue_url) {
  std::string body =
      json_object([&](JsonWriter& writer) { write_member(writer, "QueueUrl", queue_url); });
  return without_body(runtime_->call_blocking(make_call(std::move(operation), std::move(body))));
}

}  // namespace salesflow::aws
