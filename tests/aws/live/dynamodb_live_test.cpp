// DynamoDB client against the local stack, with and without injected faults.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "aws/dynamodb.hpp"
#include "support/localaws.hpp"

namespace salesflow::aws {
namespace {

using namespace std::chrono_literals;

class DynamoDbLive : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto stack = test::LocalAws::from_env();
    ASSERT_TRUE(stack) << "the local AWS stack environment is not set";
    stack_ = *stack;
    http_ = std::make_shared<HttpClient>();
    auto client =
        DynamoDbClient::create(test::local_client_config(http_, stack_.dynamodb_endpoint, 8));
    ASSERT_TRUE(client) << client.error().to_string();
    client_.emplace(std::move(*client));
    table_ = test::unique_name("transport-table");
    const auto created = client_->create_table({table_, {"Id", "S"}, std::nullopt});
    ASSERT_TRUE(created) << created.error().to_string();
    EXPECT_EQ(*created, Creation::created);
    ASSERT_TRUE(client_->wait_until_active(table_, 30s));
  }
  void TearDown() override {
    if (!client_) return;
    EXPECT_EQ(stack_.clear_faults(), "");
    EXPECT_TRUE(client_->delete_table(table_));
  }

  static std::vector<std::string> items(int count, std::string_view tag) {
    std::vector<std::string> result;
    for (int i = 0; i < count; ++i) {
      result.push_back(fmt::format(
          R"({{"Id":{{"S":"{}-{}"}},"Amount":{{"N":"{}"}},"Note":{{"S":"a \"quoted\" value"}}}})",
          tag, i, i * 7));
    }
    return result;
  }

  std::size_t stored_count() {
    const auto all = client_->scan_all(table_);
    EXPECT_TRUE(all) << all.error().to_string();
    return all ? all->size() : 0;
  }

  test::LocalAws stack_;
  std::shared_ptr<HttpClient> http_;
  std::optional<DynamoDbClient> client_;
  std::string table_;
};

TEST_F(DynamoDbLive, CreateTableIsIdempotent) {
  const auto again = client_->create_table({table_, {"Id", "S"}, std::nullopt});
  ASSERT_TRUE(again) << again.error().to_string();
  EXPECT_EQ(*again, Creation::already_existed);
  const auto described = client_->describe_table(table_);
  ASSERT_TRUE(described);
  EXPECT_EQ(described->status, "ACTIVE");
  EXPECT_EQ(described->name, table_);
}

TEST_F(DynamoDbLive, BatchWriteStoresEveryItemAcrossManyRequests) {
  const auto outcome = client_->batch_write(table_, items(120, "plain"));
  EXPECT_TRUE(outcome.ok()) << (outcome.error ? outcome.error->to_string() : "");
  EXPECT_EQ(outcome.requests, 5);  // 25 per request
  EXPECT_EQ(stored_count(), 120u);
  const auto item = client_->get_item({table_, R"({"Id":{"S":"plain-7"}})", true});
  ASSERT_TRUE(item) << item.error().to_string();
  ASSERT_TRUE(item->has_value());
  EXPECT_NE((*item)->find(R"("N":"49")"), std::string::npos);
  EXPECT_NE((*item)->find(R"(a \"quoted\" value)"), std::string::npos);
}

TEST_F(DynamoDbLive, UnprocessedItemsAreResubmittedUntilWritten) {
  ASSERT_EQ(
      stack_.set_faults(fmt::format(
          R"({{"rules":[{{"service":"dynamodb","operation":"BatchWriteItem","target":"{}","probability":0.7,"unprocessed":0.6}}]}})",
          table_)),
      "");
  BatchWriteOptions options;
  options.policy = RetryPolicy{
      .max_attempts = 30, .base_delay = 1ms, .max_backoff = 50ms, .deadline = std::nullopt};
  const auto outcome = client_->batch_write(table_, items(200, "unprocessed"), options);
  EXPECT_TRUE(outcome.ok()) << (outcome.error ? outcome.error->to_string() : "");
  EXPECT_GT(outcome.requests, 8);  // resubmissions happened
  ASSERT_EQ(stack_.clear_faults(), "");
  EXPECT_EQ(stored_count(), 200u);
}

TEST_F(DynamoDbLive, ThrottlingAndServerErrorsAreRetried) {
  ASSERT_EQ(
      stack_.set_faults(fmt::format(
          R"({{"rules":[{{"service":"dynamodb","target":"{0}","probability":0.3,"error":"ProvisionedThroughputExceededException"}},
                               {{"service":"dynamodb","target":"{0}","probability":0.2,"error":"http500"}}]}})",
          table_)),
      "");
  // Nearly half the attempts fail: enough attempts that running out of them
  // (0.44^30 per batch) cannot happen, short delays to keep the test quick.
  BatchWriteOptions options;
  options.policy = RetryPolicy{
      .max_attempts = 30, .base_delay = 1ms, .max_backoff = 50ms, .deadline = std::nullopt};
  const auto outcome = client_->batch_write(table_, items(100, "throttled"), options);
  EXPECT_TRUE(outcome.ok()) << (outcome.error ? outcome.error->to_string() : "");
  ASSERT_EQ(stack_.clear_faults(), "");
  EXPECT_EQ(stored_count(), 100u);
}

TEST_F(DynamoDbLive, PersistentThrottlingNamesEveryUnwrittenItem) {
  ASSERT_EQ(
      stack_.set_faults(fmt::format(
          R"({{"rules":[{{"service":"dynamodb","operation":"BatchWriteItem","target":"{}","error":"ThrottlingException"}}]}})",
          table_)),
      "");
  BatchWriteOptions options;
  options.deadline = 2s;
  const auto outcome = client_->batch_write(table_, items(30, "refused"), options);
  ASSERT_FALSE(outcome.ok());
  ASSERT_TRUE(outcome.error);
  EXPECT_EQ(outcome.error->code, "ThrottlingException");
  EXPECT_TRUE(outcome.error->retryable);
  EXPECT_EQ(outcome.error->service, "dynamodb");
  EXPECT_EQ(outcome.error->operation, "BatchWriteItem");
  EXPECT_EQ(outcome.unwritten.size(), 30u);
  ASSERT_EQ(stack_.clear_faults(), "");
  EXPECT_EQ(stored_count(), 0u);
}

TEST_F(DynamoDbLive, ConditionalPutAndUpdate) {
  PutItemRequest put{table_, R"({"Id":{"S":"c1"},"Version":{"N":"1"}})",
                     "attribute_not_exists(#id)", R"({"#id":"Id"})", ""};
  const auto first = client_->put_item(put);
  ASSERT_TRUE(first) << first.error().to_string();
  EXPECT_EQ(*first, ConditionalOutcome::applied);
  const auto second = client_->put_item(put);
  ASSERT_TRUE(second) << second.error().to_string();
  EXPECT_EQ(*second, ConditionalOutcome::condition_failed);

  UpdateItemRequest update{table_,
                           R"({"Id":{"S":"c1"}})",
                           "SET Version = :next",
                           "Version = :current",
                           "",
                           R"({":next":{"N":"2"},":current":{"N":"1"}})"};
  const auto updated = client_->update_item(update);
  ASSERT_TRUE(updated) << updated.error().to_string();
  EXPECT_EQ(*updated, ConditionalOutcome::applied);
  EXPECT_EQ(*client_->update_item(update), ConditionalOutcome::condition_failed);
  const auto item = client_->get_item({table_, R"({"Id":{"S":"c1"}})", true});
  ASSERT_TRUE(item && item->has_value());
  EXPECT_NE((*item)->find(R"({"N":"2"})"), std::string::npos);
  const auto missing = client_->get_item({table_, R"({"Id":{"S":"nope"}})", true});
  ASSERT_TRUE(missing);
  EXPECT_FALSE(missing->has_value());
}

TEST_F(DynamoDbLive, QueryPagesThroughAKey) {
  ASSERT_TRUE(client_->batch_write(table_, items(3, "q")).ok());
  QueryRequest query;
  query.table = table_;
  query.key_condition_expression = "Id = :id";
  query.expression_attribute_values = R"({":id":{"S":"q-1"}})";
  const auto page = client_->query(query);
  ASSERT_TRUE(page) << page.error().to_string();
  ASSERT_EQ(page->items.size(), 1u);
  EXPECT_NE(page->items[0].find("q-1"), std::string::npos);

  QueryRequest scan;
  scan.table = table_;
  scan.limit = 2;
  const auto first = client_->query(scan);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->items.size(), 2u);
  EXPECT_FALSE(first->last_evaluated_key.empty());
}

TEST_F(DynamoDbLive, ValidationErrorsAreFinalAndTyped) {
  const auto outcome = client_->batch_write(table_, {R"({"Wrong":{"S":"x"}})"});
  ASSERT_FALSE(outcome.ok());
  ASSERT_TRUE(outcome.error);
  EXPECT_EQ(outcome.error->code, "ValidationException");
  EXPECT_FALSE(outcome.error->retryable);
  EXPECT_EQ(outcome.error->attempts, 1);
  EXPECT_EQ(outcome.unwritten, std::vector<std::size_t>{0});
  const auto missing = client_->describe_table(table_ + "-absent");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, "ResourceNotFoundException");
  EXPECT_EQ(missing.error().http_status, 400);
}

TEST_F(DynamoDbLive, StalledServerTimesOutAndRetries) {
  ASSERT_EQ(
      stack_.set_faults(fmt::format(
          R"({{"rules":[{{"service":"dynamodb","operation":"PutItem","target":"{}","count":1,"stall_ms":5000}}]}})",
          table_)),
      "");
  HttpOptions options;
  options.request_timeout = 500ms;
  auto http = std::make_shared<HttpClient>(options);
  auto client = DynamoDbClient::create({http,
                                        test::test_credentials(),
                                        "us-east-1",
                                        stack_.dynamodb_endpoint,
                                        {},
                                        nullptr,
                                        nullptr});
  ASSERT_TRUE(client);
  const auto put = client->put_item({table_, R"({"Id":{"S":"stalled"}})", "", "", ""});
  ASSERT_TRUE(put) << put.error().to_string();
  const auto item = client->get_item({table_, R"({"Id":{"S":"stalled"}})", true});
  ASSERT_TRUE(item && item->has_value());
}

}  // namespace
}  // namespace salesflow::aws
