#pragma once
// DynamoDB over the JSON 1.0 protocol. Items and keys are opaque DynamoDB-JSON
// object texts ({"Id":{"S":"1"}}): this layer knows nothing of their meaning.

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "aws/service.hpp"

namespace salesflow::aws {

struct BatchWriteOptions {
  // UnprocessedItems are resubmitted with backoff until all are written or
  // this much time has passed since the call.
  std::chrono::milliseconds deadline{60000};
  std::optional<RetryPolicy> policy;  // per request; the client's when empty
  // Counts retried requests and resubmissions of UnprocessedItems; must outlive the call.
  std::atomic<std::uint64_t>* retry_counter = nullptr;
};

struct [[nodiscard]] BatchWriteOutcome {
  std::vector<std::size_t> unwritten;  // indices into the input, ascending
  std::optional<AwsError> error;       // why `unwritten` are not written
  int requests = 0;                    // BatchWriteItem requests sent (retries included)
  bool ok() const { return unwritten.empty() && !error; }
};

enum class ConditionalOutcome { applied, condition_failed };

struct PutItemRequest {
  std::string table;
  std::string item;                                     // DynamoDB JSON object text
  std::string condition_expression;                     // optional
  std::string expression_attribute_names;               // JSON object text, optional
  std::string expression_attribute_values;              // JSON object text, optional
  std::atomic<std::uint64_t>* retry_counter = nullptr;  // counts retries; must outlive the call
};

struct UpdateItemRequest {
  std::string table;
  std::string key;
  std::string update_expression;
  std::string condition_expression;
  std::string expression_attribute_names;
  std::string expression_attribute_values;
};

struct GetItemRequest {
  std::string table;
  std::string key;
  bool consistent_read = true;
};

struct QueryRequest {
  std::string table;
  std::string index_name;
  std::string key_condition_expression;  // empty: a Scan
  std::string filter_expression;
  std::string expression_attribute_names;
  std::string expression_attribute_values;
  std::string exclusive_start_key;  // from the previous page
  std::optional<int> limit;
  bool consistent_read = false;
};

struct ItemPage {
  std::vector<std::string> items;
  std::string last_evaluated_key;  // empty: no more pages
};

struct KeyAttribute {
  std::string name;
  std::string type = "S";  // "S", "N" or "B"
};

struct CreateTableRequest {
  std::string table;
  KeyAttribute partition_key;
  std::optional<KeyAttribute> sort_key;
};

struct TableDescription {
  std::string name;
  std::string status;  // "CREATING", "ACTIVE", ...
  long long item_count = 0;
};

class DynamoDbClient {
 public:
  [[nodiscard]] static Result<DynamoDbClient> create(ClientConfig config);

  // Splits into requests of at most 25 items and 16 MB; runs them concurrently.
  // `done` runs on the HTTP I/O thread.
  void batch_write_async(std::string table, std::vector<std::string> items,
                         std::function<void(BatchWriteOutcome)> done,
                         BatchWriteOptions options = {});
  [[nodiscard]] BatchWriteOutcome batch_write(std::string table, std::vector<std::string> items,
                                              BatchWriteOptions options = {});

  // ConditionalCheckFailedException becomes ConditionalOutcome::condition_failed.
  void put_item_async(PutItemRequest request, std::function<void(Result<ConditionalOutcome>)> done);
  [[nodiscard]] Result<ConditionalOutcome> put_item(PutItemRequest request);
  void update_item_async(UpdateItemRequest request,
                         std::function<void(Result<ConditionalOutcome>)> done);
  [[nodiscard]] Result<ConditionalOutcome> update_item(UpdateItemRequest request);

  // nullopt when there is no such item.
  void get_item_async(GetItemRequest request,
                      std::function<void(Result<std::optional<std::string>>)> done);
  [[nodiscard]] Result<std::optional<std::string>> get_item(GetItemRequest request);

  void query_async(QueryRequest request, std::function<void(Result<ItemPage>)> done);
  [[nodiscard]] Result<ItemPage> query(
      QueryRequest request);  // one page; Scan without key condition
  [[nodiscard]] Result<std::vector<std::string>> scan_all(
      std::string table);  // every page, consistent

  // already_existed: ResourceInUseException (the table is there, maybe still CREATING).
  [[nodiscard]] Result<Creation> create_table(CreateTableRequest request);
  [[nodiscard]] Result<TableDescription> describe_table(std::string table);
  [[nodiscard]] Result<TableDescription> wait_until_active(std::string table,
                                                           std::chrono::milliseconds timeout);
  [[nodiscard]] Result<void> delete_table(std::string table);

  static constexpr std::size_t kMaxBatchItems = 25;
  static constexpr std::size_t kMaxBatchBytes = std::size_t{16} << 20;

 private:
  explicit DynamoDbClient(std::shared_ptr<ServiceRuntime> runtime) : runtime_(std::move(runtime)) {}
  ServiceCall make_call(std::string operation, std::string body) const;
  // A write whose ConditionalCheckFailedException is an outcome, not an error.
  void conditional_call(ServiceCall call, std::function<void(Result<ConditionalOutcome>)> done);
  std::shared_ptr<ServiceRuntime> runtime_;
};

}  // namespace salesflow::aws
