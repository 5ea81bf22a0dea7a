// The ledger and the DynamoDB item sink against the local stack's dynalite.
#include <gtest/gtest.h>

#include <future>
#include <memory>
#include <string>
#include <vector>

#include "aws/dynamodb.hpp"
#include "pipeline/detail/dynamodb_sink.hpp"
#include "pipeline/ledger.hpp"
#include "support/localaws.hpp"

namespace salesflow::pipeline {
namespace {

using namespace std::chrono_literals;

class PipelineDynamoDb : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto stack = test::LocalAws::from_env();
    ASSERT_TRUE(stack) << "the local AWS stack environment is not set";
    http_ = std::make_shared<aws::HttpClient>();
    aws::ClientConfig config{
        http_,  test::test_credentials(), "us-east-1", stack->dynamodb_endpoint, {}, nullptr,
        nullptr};
    config.retry.max_attempts = 8;
    auto client = aws::DynamoDbClient::create(config);
    ASSERT_TRUE(client) << client.error().to_string();
    client_.emplace(std::move(*client));
    ledger_table_ = test::unique_name("ledger");
    ASSERT_TRUE(client_->create_table(Ledger::table_schema(ledger_table_)));
    ASSERT_TRUE(client_->wait_until_active(ledger_table_, 30s));
  }
  void TearDown() override {
    if (client_) {
      EXPECT_TRUE(client_->delete_table(ledger_table_));
    }
  }

  std::shared_ptr<aws::HttpClient> http_;
  std::optional<aws::DynamoDbClient> client_;
  std::string ledger_table_;
  std::int64_t now_ = 1'000'000;
  Ledger::Clock clock_ = [this] { return now_; };
  ObjectVersion object_{"bucket", "dir/a file+é.json", "abc123", ""};
};

TEST_F(PipelineDynamoDb, LedgerClaimCheckpointCompleteAndSkip) {
  Ledger first(*client_, ledger_table_, "worker-1", 60s, clock_);
  const auto claim = first.claim(object_);
  ASSERT_TRUE(claim) << claim.error().to_string();
  EXPECT_EQ(claim->result, ClaimResult::claimed);
  EXPECT_EQ(claim->resume.next_index, 0U);
  EXPECT_EQ(claim->attempts, 1);

  // A second worker sees the live lease.
  Ledger second(*client_, ledger_table_, "worker-2", 60s, clock_);
  const auto held = second.claim(object_);
  ASSERT_TRUE(held);
  EXPECT_EQ(held->result, ClaimResult::held);
  EXPECT_EQ(held->holder, "worker-1");

  const auto saved = first.checkpoint(object_, Checkpoint{5000, 123456, 2});
  ASSERT_TRUE(saved);
  EXPECT_EQ(*saved, LeaseState::held);

  ObjectReport report;
  report.tally.records = 7000;
  report.tally.valid = 6000;
  report.tally.rejected = 1000;
  report.written = 6000;
  report.rejected = 1000;
  const auto completed = first.complete(object_, report);
  ASSERT_TRUE(completed);
  EXPECT_EQ(*completed, LeaseState::held);

  // Done objects are skipped by everyone, even after the lease time.
  now_ += 3600;
  const auto again = second.claim(object_);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->result, ClaimResult::already_done);
  // And the finished owner cannot write any more.
  const auto late = first.checkpoint(object_, Checkpoint{1, 1, 0});
  ASSERT_TRUE(late);
  EXPECT_EQ(*late, LeaseState::lost);
}

TEST_F(PipelineDynamoDb, ExpiredLeaseIsTakenOverWithTheCheckpoint) {
  Ledger dead(*client_, ledger_table_, "worker-dead", 60s, clock_);
  ASSERT_TRUE(dead.claim(object_));
  ASSERT_TRUE(dead.checkpoint(object_, Checkpoint{2500, 99, 0}));

  Ledger next(*client_, ledger_table_, "worker-next", 60s, clock_);
  const auto early = next.claim(object_);
  ASSERT_TRUE(early);
  EXPECT_EQ(early->result, ClaimResult::held);

  now_ += 61;
  const auto taken = next.claim(object_);
  ASSERT_TRUE(taken) << taken.error().to_string();
  EXPECT_EQ(taken->result, ClaimResult::claimed);
  EXPECT_EQ(taken->resume.next_index, 2500U);
  EXPECT_EQ(taken->resume.offset, 99U);
  EXPECT_EQ(taken->attempts, 2);

  // The old owner wakes up: every write of its is refused.
  const auto stale = dead.checkpoint(object_, Checkpoint{9999, 0, 0});
  ASSERT_TRUE(stale);
  EXPECT_EQ(*stale, LeaseState::lost);
  const auto renewed = dead.renew(object_);
  ASSERT_TRUE(renewed);
  EXPECT_EQ(*renewed, LeaseState::lost);
}

TEST_F(PipelineDynamoDb, ReleasedLeaseCanBeClaimedAtOnce) {
  Ledger one(*client_, ledger_table_, "worker-1", 600s, clock_);
  ASSERT_TRUE(one.claim(object_));
  ASSERT_TRUE(one.release(object_));
  Ledger two(*client_, ledger_table_, "worker-2", 600s, clock_);
  now_ += 1;
  const auto claim = two.claim(object_);
  ASSERT_TRUE(claim);
  EXPECT_EQ(claim->result, ClaimResult::claimed);
}

TEST_F(PipelineDynamoDb, VersionsAreSeparateLedgerEntries) {
  EXPECT_NE((ObjectVersion{"b", "k", "e1", ""}.ledger_id()),
            (ObjectVersion{"b", "k", "e2", ""}.ledger_id()));
  EXPECT_NE((ObjectVersion{"b", "k", "e1", "v1"}.ledger_id()),
            (ObjectVersion{"b", "k", "e1", "v2"}.ledger_id()));
}

class ItemSinkLive : public PipelineDynamoDb {
 protected:
  void SetUp() override {
    PipelineDynamoDb::SetUp();
    table_ = test::unique_name("items");
    ASSERT_TRUE(client_->create_table({table_, {"OrderId", "S"}, std::nullopt}));
    ASSERT_TRUE(client_->wait_until_active(table_, 30s));
  }
  void TearDown() override {
    if (client_) {
      EXPECT_TRUE(client_->delete_table(table_));
    }
    PipelineDynamoDb::TearDown();
  }

  std::vector<ItemOutcome> write(ItemSink& sink, std::vector<ItemWrite> items) {
    std::promise<std::vector<ItemOutcome>> promise;
    sink.write(
        std::move(items),
        [&promise](std::vector<ItemOutcome> outcomes, const std::optional<aws::AwsError>&) {
          promise.set_value(std::move(outcomes));
        },
        &retries_);
    return promise.get_future().get();
  }

  std::atomic<std::uint64_t> retries_{0};

  static ItemWrite item(const std::string& id, const std::string& raw) {
    return ItemWrite{0, R"({"OrderId":{"S":")" + id + R"("},"raw":{"S":")" + raw + R"("}})", raw, 0,
                     0};
  }

  std::string table_;
};

TEST_F(ItemSinkLive, OverwriteWritesEveryItem) {
  DynamoDbItemSink sink(*client_, DynamoDbSinkOptions{table_, false});
  std::vector<ItemWrite> items;
  for (int i = 0; i < 25; ++i) {
    items.push_back(item("o-" + std::to_string(i), "r" + std::to_string(i)));
  }
  const auto outcomes = write(sink, std::move(items));
  ASSERT_EQ(outcomes.size(), 25U);
  for (const auto o : outcomes) {
    EXPECT_EQ(o, ItemOutcome::written);
  }
  const auto all = client_->scan_all(table_);
  ASSERT_TRUE(all);
  EXPECT_EQ(all->size(), 25U);
  EXPECT_EQ(retries_.load(), 0U);
}

TEST_F(ItemSinkLive, ThrottledWritesAreRetriedAndCounted) {
  auto stack = test::LocalAws::from_env();
  ASSERT_TRUE(stack);
  ASSERT_EQ(stack->set_faults(R"({"service":"dynamodb","operation":"BatchWriteItem","target":")" +
                              table_ +
                              R"(","count":2,"error":"ProvisionedThroughputExceededException"})"),
            "");
  DynamoDbItemSink sink(*client_, DynamoDbSinkOptions{table_, false});
  std::vector<ItemWrite> items;
  for (int i = 0; i < 10; ++i) {
    items.push_back(item("t-" + std::to_string(i), "r"));
  }
  const auto outcomes = write(sink, std::move(items));
  EXPECT_EQ(stack->clear_faults(), "");
  EXPECT_EQ(outcomes, std::vector<ItemOutcome>(10, ItemOutcome::written));
  EXPECT_EQ(retries_.load(), 2U);
  const auto all = client_->scan_all(table_);
  ASSERT_TRUE(all);
  EXPECT_EQ(all->size(), 10U);
}

TEST_F(ItemSinkLive, RejectModeRefusesADifferentRecordWithTheSameKey) {
  DynamoDbSinkOptions options{table_, true};
  DynamoDbItemSink sink(*client_, options);
  auto first = write(sink, {item("k1", "first"), item("k2", "same")});
  EXPECT_EQ(first, (std::vector<ItemOutcome>{ItemOutcome::written, ItemOutcome::written}));
  // k1 again with other content: refused; k2 with the same record: let through; k3 new.
  auto second = write(sink, {item("k1", "second"), item("k2", "same"), item("k3", "new")});
  EXPECT_EQ(second, (std::vector<ItemOutcome>{ItemOutcome::conflict, ItemOutcome::written,
                                              ItemOutcome::written}));
  const auto stored = client_->get_item({table_, R"({"OrderId":{"S":"k1"}})", true});
  ASSERT_TRUE(stored && stored->has_value());
  EXPECT_NE((*stored)->find("first"), std::string::npos) << "the existing item is not touched";
}

TEST_F(ItemSinkLive, UnwritableItemsAreReportedFailed) {
  DynamoDbItemSink sink(*client_, DynamoDbSinkOptions{"no-such-table-" + table_, false});
  const auto outcomes = write(sink, {item("x", "y")});
  ASSERT_EQ(outcomes.size(), 1U);
  EXPECT_EQ(outcomes[0], ItemOutcome::failed);
}

}  // namespace
}  // namespace salesflow::pipeline
