#pragma once
// The table as an ItemSink.
//
// overwrite: BatchWriteItem, 25 items a request; the client resubmits
// UnprocessedItems with backoff until its deadline, and names the items it
// could not write, which fail the object (never dropped silently).
//
// reject: one conditional PutItem per item. The item carries the SHA-256 of
// its record's raw text (attribute `content_hash_attribute`), and the
// condition `attribute_not_exists(<key>) OR <hash> = :hash` lets the put
// through only when the key is new or holds the very same record (so a
// re-run after a crash is harmless). A refused put is a `conflict`: the
// processor turns it into a duplicate_key envelope. Records that differ only
// in whitespace count as different.

#include <string>

#include "aws/dynamodb.hpp"
#include "pipeline/sinks.hpp"

namespace salesflow::pipeline {

struct DynamoDbSinkOptions {
  std::string table;
  bool reject_conflicts = false;
  std::string partition_key_attribute = "OrderId";
  std::string content_hash_attribute = "_record_sha256";
  std::chrono::milliseconds deadline{120000};  // per batch, retries and UnprocessedItems included
};

class DynamoDbItemSink final : public ItemSink {
 public:
  DynamoDbItemSink(aws::DynamoDbClient& client, DynamoDbSinkOptions options);

  [[nodiscard]] std::size_t max_batch_items() const override {
    return aws::DynamoDbClient::kMaxBatchItems;
  }
  void write(std::vector<ItemWrite> items, WriteDone done,
             std::atomic<std::uint64_t>* retries) override;

 private:
  void put_conditionally(std::vector<ItemWrite> items, WriteDone done,
                         std::atomic<std::uint64_t>* retries);

  aws::DynamoDbClient& client_;
  DynamoDbSinkOptions options_;
};

}  // namespace salesflow::pipeline
