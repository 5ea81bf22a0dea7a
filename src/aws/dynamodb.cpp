#include "aws/dynamodb.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <utility>

#include "aws/service_json.hpp"
#include "base/json_string.hpp"

namespace salesflow::aws {

namespace {

constexpr std::string_view kTarget = "DynamoDB_20120810";

void write_optional_raw(JsonWriter& writer, std::string_view key, std::string_view json) {
  if (json.empty()) return;
  write_key(writer, key);
  write_raw(writer, json, rapidjson::kObjectType);
}

void write_optional_string(JsonWriter& writer, std::string_view key, std::string_view value) {
  if (value.empty()) return;
  write_member(writer, key, value);
}

// Whether a BatchWriteItem answer hands items of `table` back (for want of
// capacity: DynamoDB's throttling of a batch that was partly written).
bool hands_items_back(std::string_view body, const std::string& table) {
  // An answer that wrote everything is {"UnprocessedItems":{}}: parsed only
  // when it holds some request (then BatchGroup parses it again to match them).
  if (body.find("PutRequest") == std::string_view::npos) return false;
  simdjson::dom::parser parser;
  simdjson::dom::array unprocessed;
  return parser.parse(body.data(), body.size())["UnprocessedItems"][table].get(unprocessed) ==
             simdjson::SUCCESS &&
         unprocessed.size() != 0;
}

// One BatchWriteItem request's worth of items, resubmitted until written.
struct BatchAggregate {
  std::mutex mutex;
  std::size_t groups_left = 0;
  BatchWriteOutcome outcome;
  std::function<void(BatchWriteOutcome)> done;

  void group_finished(std::vector<std::size_t> unwritten, std::optional<AwsError> error,
                      int requests) {
    std::function<void(BatchWriteOutcome)> finish;
    BatchWriteOutcome result;
    {
      const std::lock_guard lock(mutex);
      outcome.unwritten.insert(outcome.unwritten.end(), unwritten.begin(), unwritten.end());
      if (error && !outcome.error) outcome.error = std::move(error);
      outcome.requests += requests;
      if (--groups_left != 0) return;
      std::sort(outcome.unwritten.begin(), outcome.unwritten.end());
      result = std::move(outcome);
      finish = std::move(done);
    }
    finish(std::move(result));
  }
};

struct BatchGroup : std::enable_shared_from_this<BatchGroup> {
  std::shared_ptr<ServiceRuntime> runtime;
  std::shared_ptr<const std::vector<std::string>> items;
  std::shared_ptr<BatchAggregate> aggregate;
  std::string table;
  std::vector<std::size_t> pending;
  std::unordered_map<std::size_t, std::string> canonical;  // filled on first need
  std::chrono::steady_clock::time_point deadline;
  RetryPolicy policy;
  std::atomic<std::uint64_t>* retry_counter = nullptr;
  int requests = 0;
  int rounds = 0;
  std::optional<AwsError> throttled;  // the last answer, when it was a throttling error

  // The request body, assembled by appends: the items are already encoded
  // JSON objects, and copying each as one block (rather than byte by byte
  // through a JSON writer's raw value) is what keeps a 25-item body of ~1 KB
  // items from being a leading cost per record (bench/README.md).
  std::string body() const {
    constexpr std::string_view kPut = R"({"PutRequest":{"Item":)";
    constexpr std::string_view kPutEnd = "}}";
    std::size_t size = base::json_string_bound(table.size()) + 32;
    for (const std::size_t index : pending) {
      size += kPut.size() + (*items)[index].size() + kPutEnd.size() + 1;
    }
    std::string out;
    out.reserve(size);
    out += R"({"RequestItems":{)";
    base::append_json_string(out, table);
    out += ":[";
    bool first = true;
    for (const std::size_t index : pending) {
      if (!first) out += ',';
      first = false;
      out += kPut;
      out += (*items)[index];
      out += kPutEnd;
    }
    out += "]}}";
    return out;
  }

  void send() {
    const auto now = std::chrono::steady_clock::now();
    RetryPolicy attempt_policy = policy;
    attempt_policy.deadline =
        std::max(std::chrono::milliseconds(1),
                 std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now));
    ServiceCall call = runtime->json_call(kTarget, "BatchWriteItem", body());
    call.policy = attempt_policy;
    call.retry_counter = retry_counter;
    call.throttled_answer = [table = table](const HttpResponse& response) {
      return hands_items_back(response.body, table);
    };
    if (requests > 0 && retry_counter != nullptr) {
      ++*retry_counter;  // a resubmission of UnprocessedItems
    }
    ++requests;
    runtime->call(std::move(call), [self = shared_from_this()](Result<HttpResponse> result) {
      self->on_response(std::move(result));
    });
  }

  void finish(std::optional<AwsError> error) {
    aggregate->group_finished(error ? pending : std::vector<std::size_t>{}, std::move(error),
                              requests);
  }

  void on_response(Result<HttpResponse> result) {
    if (!result) {
      // A whole request throttled (every item over the table's capacity) is
      // the same as every item handed back: resubmitted until the deadline,
      // at the pace the client's rate limiter now keeps.
      if (is_throttling_code(result.error().code)) {
        throttled = std::move(result.error());
        return resubmit(0, throttled->http_status, throttled->request_id);
      }
      // An attempt after throttling that ran out of time (its timeout is what
      // was left of the batch's deadline): the throttling is why the items
      // are unwritten, the timeout only when it was noticed.
      if (auto reason = throttling_outlasted(throttled, result.error())) {
        reason->message += fmt::format(" ({} items still unwritten)", pending.size());
        reason->attempts = requests;
        return finish(std::move(*reason));
      }
      return finish(std::move(result.error()));
    }
    simdjson::dom::parser parser;
    auto root = parse_json_body(parser, *result, *runtime, "BatchWriteItem");
    if (!root) return finish(std::move(root.error()));
    simdjson::dom::array unprocessed;
    if ((*root)["UnprocessedItems"][table].get(unprocessed) != simdjson::SUCCESS ||
        unprocessed.size() == 0) {
      pending.clear();
      return finish(std::nullopt);
    }
    throttled.reset();
    std::vector<std::size_t> still = match_unprocessed(unprocessed);
    const std::size_t written = pending.size() - still.size();
    pending = std::move(still);
    resubmit(written, result->status, request_id_of(*result));
  }

  // Sends `pending` again after a backoff, or ends with UnprocessedItems when
  // the deadline comes first. `written`: items the last answer took.
  void resubmit(std::size_t written, int status, const std::string& request_id) {
    // Progress means capacity is there: back off from the start again.
    if (written > 0) rounds = 0;
    ++rounds;
    const auto delay = runtime->retry_strategy().backoff(rounds - 1, policy);
    if (std::chrono::steady_clock::now() + delay >= deadline) {
      if (throttled) {  // the last answer was a throttling error: it is the reason
        AwsError error = std::move(*throttled);
        error.message +=
            fmt::format(" ({} items still unwritten when the deadline passed)", pending.size());
        error.attempts = requests;
        return finish(std::move(error));
      }
      AwsError error{
          runtime->service(),
          "BatchWriteItem",
          status,
          "UnprocessedItems",
          fmt::format("{} items still unprocessed when the deadline passed", pending.size()),
          request_id,
          true,
          requests};
      return finish(std::move(error));
    }
    runtime->http().schedule(delay, [self = shared_from_this()] { self->send(); });
  }

  // Which pending items the service handed back. Puts are idempotent, so
  // when an item cannot be told apart every pending item is sent again.
  std::vector<std::size_t> match_unprocessed(simdjson::dom::array unprocessed) {
    std::unordered_multimap<std::string, std::size_t> by_text;
    for (const std::size_t index : pending) {
      auto [slot, inserted] = canonical.try_emplace(index);
      if (inserted) slot->second = canonical_json((*items)[index]).value_or((*items)[index]);
      by_text.emplace(slot->second, index);
    }
    std::vector<std::size_t> matched;
    for (const auto entry : unprocessed) {
      simdjson::dom::element item;
      if (entry["PutRequest"]["Item"].get(item) != simdjson::SUCCESS) return pending;
      const auto text = canonical_json(json_text(item));
      const auto found = text ? by_text.find(*text) : by_text.end();
      if (found == by_text.end()) return pending;
      matched.push_back(found->second);
      by_text.erase(found);
    }
    std::sort(matched.begin(), matched.end());
    return matched;
  }
};

// The body of a request that names only its table.
std::string table_body(std::string_view table) {
  return json_object([&](JsonWriter& writer) { write_member(writer, "TableName", table); });
}

Result<ConditionalOutcome> conditional_outcome(Result<HttpResponse> result) {
  if (result) return ConditionalOutcome::applied;
  if (result.error().code == "ConditionalCheckFailedException") {
    return ConditionalOutcome::condition_failed;
  }
  return tl::unexpected(std::move(result.error()));
}

}  // namespace

Result<DynamoDbClient> DynamoDbClient::create(ClientConfig config) {
  auto runtime = ServiceRuntime::create(std::move(config), "dynamodb", "dynamodb", "dynamodb",
                                        parse_json_error);
  if (!runtime) return tl::unexpected(runtime.error());
  return DynamoDbClient(std::move(*runtime));
}

ServiceCall DynamoDbClient::make_call(std::string operation, std::string body) const {
  return runtime_->json_call(kTarget, std::move(operation), std::move(body));
}

void DynamoDbClient::batch_write_async(std::string table, std::vector<std::string> items,
                                       std::function<void(BatchWriteOutcome)> done,
                                       BatchWriteOptions options) {
  if (items.empty()) {
    done(BatchWriteOutcome{});
    return;
  }
  auto shared_items = std::make_shared<const std::vector<std::string>>(std::move(items));
  auto aggregate = std::make_shared<BatchAggregate>();
  aggregate->done = std::move(done);
  const auto deadline = std::chrono::steady_clock::now() + options.deadline;
  const RetryPolicy policy = options.policy.value_or(runtime_->config().retry);

  // Pack by count and by size (items plus per-entry framing).
  constexpr std::size_t kFraming = 64;
  std::vector<std::size_t> sizes;
  sizes.reserve(shared_items->size());
  for (const std::string& item : *shared_items) sizes.push_back(item.size() + kFraming);
  auto groups = pack_batches(sizes, kMaxBatchItems, kMaxBatchBytes, table.size() + kFraming);
  aggregate->groups_left = groups.size();
  for (auto& indices : groups) {
    auto group = std::make_shared<BatchGroup>();
    group->runtime = runtime_;
    group->items = shared_items;
    group->aggregate = aggregate;
    group->table = table;
    group->pending = std::move(indices);
    group->deadline = deadline;
    group->policy = policy;
    group->retry_counter = options.retry_counter;
    group->send();
  }
}

BatchWriteOutcome DynamoDbClient::batch_write(std::string table, std::vector<std::string> items,
                                              BatchWriteOptions options) {
  if (runtime_->http().on_io_thread()) {
    BatchWriteOutcome outcome;
    for (std::size_t i = 0; i < items.size(); ++i) outcome.unwritten.push_back(i);
    outcome.error = runtime_->io_thread_error("BatchWriteItem");
    return outcome;
  }
  return block_on<BatchWriteOutcome>([&](auto done) {
    batch_write_async(std::move(table), std::move(items), std::move(done), options);
  });
}

void DynamoDbClient::put_item_async(PutItemRequest request,
                                    std::function<void(Result<ConditionalOutcome>)> done) {
  std::string body = json_object([&](JsonWriter& writer) {
    write_member(writer, "TableName", request.table);
    write_key(writer, "Item");
    write_raw(writer, request.item, rapidjson::kObjectType);
    write_optional_string(writer, "ConditionExpression", request.condition_expression);
    write_optional_raw(writer, "ExpressionAttributeNames", request.expression_attribute_names);
    write_optional_raw(writer, "ExpressionAttributeValues", request.expression_attribute_values);
  });
  ServiceCall call = make_call("PutItem", std::move(body));
  call.retry_counter = request.retry_counter;
  conditional_call(std::move(call), std::move(done));
}

Result<ConditionalOutcome> DynamoDbClient::put_item(PutItemRequest request) {
  return runtime_->wait_for<ConditionalOutcome>(
      "PutItem", [&](auto done) { put_item_async(std::move(request), std::move(done)); });
}

void DynamoDbClient::update_item_async(UpdateItemRequest request,
                                       std::function<void(Result<ConditionalOutcome>)> done) {
  std::string body = json_object([&](JsonWriter& writer) {
    write_member(writer, "TableName", request.table);
    write_key(writer, "Key");
    write_raw(writer, request.key, rapidjson::kObjectType);
    write_optional_string(writer, "UpdateExpression", request.update_expression);
    write_optional_string(writer, "ConditionExpression", request.condition_expression);
    write_optional_raw(writer, "ExpressionAttributeNames", request.expression_attribute_names);
    write_optional_raw(writer, "ExpressionAttributeValues", request.expression_attribute_values);
  });
  conditional_call(make_call("UpdateItem", std::move(body)), std::move(done));
}

Result<ConditionalOutcome> DynamoDbClient::update_item(UpdateItemRequest request) {
  return runtime_->wait_for<ConditionalOutcome>(
      "UpdateItem", [&](auto done) { update_item_async(std::move(request), std::move(done)); });
}

void DynamoDbClient::conditional_call(ServiceCall call,
                                      std::function<void(Result<ConditionalOutcome>)> done) {
  runtime_->call(std::move(call), [done = std::move(done)](Result<HttpResponse> result) {
    done(conditional_outcome(std::move(result)));
  });
}

void DynamoDbClient::get_item_async(GetItemRequest request,
                                    std::function<void(Result<std::optional<std::string>>)> done) {
  std::string body = json_object([&](JsonWriter& writer) {
    write_member(writer, "TableName", request.table);
    write_key(writer, "Key");
    write_raw(writer, request.key, rapidjson::kObjectType);
    write_key(writer, "ConsistentRead");
    writer.Bool(request.consistent_read);
  });
  call_json(
      runtime_, make_call("GetItem", std::move(body)),
      [](simdjson::dom::element root) {
        simdjson::dom::element item;
        if (root["Item"].get(item) != simdjson::SUCCESS) return std::optional<std::string>{};
        return std::optional<std::string>(json_text(item));
      },
      std::move(done));
}

Result<std::optional<std::string>> DynamoDbClient::get_item(GetItemRequest request) {
  return runtime_->wait_for<std::optional<std::string>>(
      "GetItem", [&](auto done) { get_item_async(std::move(request), std::move(done)); });
}

void DynamoDbClient::query_async(QueryRequest request, std::function<void(Result<ItemPage>)> done) {
  const bool scan = request.key_condition_expression.empty();
  std::string body = json_object([&](JsonWriter& writer) {
    write_member(writer, "TableName", request.table);
    write_optional_string(writer, "IndexName", request.index_name);
    write_optional_string(writer, "KeyConditionExpression", request.key_condition_expression);
    write_optional_string(writer, "FilterExpression", request.filter_expression);
    write_optional_raw(writer, "ExpressionAttributeNames", request.expression_attribute_names);
    write_optional_raw(writer, "ExpressionAttributeValues", request.expression_attribute_values);
    write_optional_raw(writer, "ExclusiveStartKey", request.exclusive_start_key);
    if (request.limit) {
      write_key(writer, "Limit");
      writer.Int(*request.limit);
    }
    write_key(writer, "ConsistentRead");
    writer.Bool(request.consistent_read);
  });
  call_json(
      runtime_, make_call(scan ? "Scan" : "Query", std::move(body)),
      [](simdjson::dom::element root) {
        ItemPage page;
        simdjson::dom::array items;
        if (root["Items"].get(items) == simdjson::SUCCESS) {
          for (const auto item : items) page.items.push_back(json_text(item));
        }
        simdjson::dom::element last;
        if (root["LastEvaluatedKey"].get(last) == simdjson::SUCCESS) {
          page.last_evaluated_key = json_text(last);
        }
        return page;
      },
      std::move(done));
}

Result<ItemPage> DynamoDbClient::query(QueryRequest request) {
  return runtime_->wait_for<ItemPage>(
      "Query", [&](auto done) { query_async(std::move(request), std::move(done)); });
}

Result<std::vector<std::string>> DynamoDbClient::scan_all(std::string table) {
  std::vector<std::string> items;
  QueryRequest request;
  request.table = std::move(table);
  request.consistent_read = true;
  for (;;) {
    auto page = query(request);
    if (!page) return tl::unexpected(std::move(page.error()));
    std::move(page->items.begin(), page->items.end(), std::back_inserter(items));
    if (page->last_evaluated_key.empty()) return items;
    request.exclusive_start_key = std::move(page->last_evaluated_key);
  }
}

Result<Creation> DynamoDbClient::create_table(CreateTableRequest request) {
  std::vector<std::pair<const KeyAttribute*, std::string_view>> keys = {
      {&request.partition_key, "HASH"}};
  if (request.sort_key) keys.emplace_back(&*request.sort_key, "RANGE");
  std::string body = json_object([&](JsonWriter& writer) {
    write_member(writer, "TableName", request.table);
    write_member(writer, "BillingMode", "PAY_PER_REQUEST");
    write_key(writer, "AttributeDefinitions");
    writer.StartArray();
    for (const auto& [key, role] : keys) {
      writer.StartObject();
      write_member(writer, "AttributeName", key->name);
      write_member(writer, "AttributeType", key->type);
      writer.EndObject();
    }
    writer.EndArray();
    write_key(writer, "KeySchema");
    writer.StartArray();
    for (const auto& [key, role] : keys) {
      writer.StartObject();
      write_member(writer, "AttributeName", key->name);
      write_member(writer, "KeyType", role);
      writer.EndObject();
    }
    writer.EndArray();
  });
  auto result = runtime_->call_blocking(make_call("CreateTable", std::move(body)));
  if (result) return Creation::created;
  if (result.error().code == "ResourceInUseException") return Creation::already_existed;
  return tl::unexpected(std::move(result.error()));
}

Result<TableDescription> DynamoDbClient::describe_table(std::string table) {
  auto read = call_json_blocking(
      *runtime_, make_call("DescribeTable", table_body(table)),
      [](simdjson::dom::element root) -> Result<TableDescription> {
        simdjson::dom::element table_node;
        if (root["Table"].get(table_node) != simdjson::SUCCESS || !table_node.is_object()) {
          return tl::unexpected(AwsError{"dynamodb", "DescribeTable", 0, "InvalidResponse",
                                         "the answer has no Table object", "", false, 1});
        }
        TableDescription description;
        description.name = string_member(table_node, "TableName");
        description.status = string_member(table_node, "TableStatus");
        std::int64_t count = 0;
        if (table_node["ItemCount"].get(count) == simdjson::SUCCESS) {
          description.item_count = count;
        }
        return description;
      });
  if (!read) return tl::unexpected(std::move(read.error()));
  return std::move(*read);
}

Result<TableDescription> DynamoDbClient::wait_until_active(std::string table,
                                                           std::chrono::milliseconds timeout) {
  const auto give_up = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto description = describe_table(table);
    if (!description) return description;
    if (description->status == "ACTIVE") return description;
    if (std::chrono::steady_clock::now() >= give_up) {
      return tl::unexpected(
          AwsError{"dynamodb", "DescribeTable", 0, "Timeout",
                   fmt::format("table {} is still {}", table, description->status), "", true, 1});
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));  // caller's thread
  }
}

Result<void> DynamoDbClient::delete_table(std::string table) {
  return without_body(runtime_->call_blocking(make_call("DeleteTable", table_body(table))));
}

}  // namespace salesflow::aws
