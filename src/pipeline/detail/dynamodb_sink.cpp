#include "pipeline/detail/dynamodb_sink.hpp"

#include <atomic>
#include <memory>
#include <mutex>

#include "base/digest.hpp"
#include "base/json_string.hpp"
#include "base/text.hpp"

namespace salesflow::pipeline {

DynamoDbItemSink::DynamoDbItemSink(aws::DynamoDbClient& client, DynamoDbSinkOptions options)
    : client_(client), options_(std::move(options)) {}

void DynamoDbItemSink::write(std::vector<ItemWrite> items, WriteDone done,
                             std::atomic<std::uint64_t>* retries) {
  if (options_.reject_conflicts) {
    put_conditionally(std::move(items), std::move(done), retries);
    return;
  }
  std::vector<std::string> texts;
  texts.reserve(items.size());
  for (auto& item : items) {
    texts.push_back(std::move(item.item_json));
  }
  const std::size_t count = texts.size();
  aws::BatchWriteOptions batch_options;
  batch_options.deadline = options_.deadline;
  batch_options.retry_counter = retries;
  client_.batch_write_async(
      options_.table, std::move(texts),
      [count, done = std::move(done)](aws::BatchWriteOutcome outcome) {
        std::vector<ItemOutcome> outcomes(count, ItemOutcome::written);
        for (const auto index : outcome.unwritten) {
          if (index < count) {
            outcomes[index] = ItemOutcome::failed;
          }
        }
        std::optional<aws::AwsError> error;
        if (!outcome.unwritten.empty()) {
          error = outcome.error.value_or(aws::AwsError{
              .service = "dynamodb",
              .operation = "BatchWriteItem",
              .http_status = 200,
              .code = "UnprocessedItems",
              .message = std::to_string(outcome.unwritten.size()) + " of " + std::to_string(count) +
                         " items still unprocessed at the deadline",
              .request_id = {},
              .retryable = true,
              .attempts = 1});
        }
        done(std::move(outcomes), std::move(error));
      },
      batch_options);
}

void DynamoDbItemSink::put_conditionally(std::vector<ItemWrite> items, WriteDone done,
                                         std::atomic<std::uint64_t>* retries) {
  struct Pending {
    std::mutex mutex;
    std::vector<ItemOutcome> outcomes;
    std::optional<aws::AwsError> error;  // the first put that failed
    std::size_t remaining = 0;
    WriteDone done;
  };
  auto pending = std::make_shared<Pending>();
  pending->outcomes.assign(items.size(), ItemOutcome::failed);
  pending->remaining = items.size();
  pending->done = std::move(done);
  if (items.empty()) {
    pending->done({}, std::nullopt);
    return;
  }

  std::string names = "{\"#pk\":";
  base::append_json_string(names, options_.partition_key_attribute);
  names += ",\"#hash\":";
  base::append_json_string(names, options_.content_hash_attribute);
  names += '}';

  for (std::size_t i = 0; i < items.size(); ++i) {
    const std::string hash = base::sha256_hex(base::trim(items[i].raw));
    // Prepend the hash attribute: the item is a JSON object text "{...}".
    std::string item = "{";
    base::append_json_string(item, options_.content_hash_attribute);
    item += ":{\"S\":\"" + hash + "\"}";
    if (items[i].item_json.size() > 2) {
      item += ',';
    }
    item.append(items[i].item_json, 1, std::string::npos);

    aws::PutItemRequest request;
    request.table = options_.table;
    request.item = std::move(item);
    request.condition_expression = "attribute_not_exists(#pk) OR #hash = :hash";
    request.expression_attribute_names = names;
    request.expression_attribute_values = "{\":hash\":{\"S\":\"" + hash + "\"}}";
    request.retry_counter = retries;
    client_.put_item_async(
        std::move(request), [pending, i](aws::Result<aws::ConditionalOutcome> result) {
          bool last = false;
          {
            const std::scoped_lock lock(pending->mutex);
            if (!result) {
              pending->outcomes[i] = ItemOutcome::failed;
              if (!pending->error) {
                pending->error = std::move(result.error());
              }
            } else {
              pending->outcomes[i] = *result == aws::ConditionalOutcome::applied
                                         ? ItemOutcome::written
                                         : ItemOutcome::conflict;
            }
            last = --pending->remaining == 0;
          }
          if (last) {
            pending->done(std::move(pending->outcomes), std::move(pending->error));
          }
        });
  }
}

}  // namespace salesflow::pipeline
