// One pass over a real (local) SQS queue: every message received once, held
// until handed back or deleted, the pass bounded by max_held, and the held
// messages visible again at once after it.
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <thread>
#include <vector>

#include "pipeline/dlq_sweep.hpp"
#include "support/localaws.hpp"

namespace salesflow::pipeline {
namespace {

using namespace std::chrono_literals;

class DlqSweepLive : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto stack = test::LocalAws::from_env();
    ASSERT_TRUE(stack) << "the local AWS stack environment is not set";
    stack_ = *stack;
    http_ = std::make_shared<aws::HttpClient>();
    auto sqs = aws::SqsClient::create(test::local_client_config(http_, stack->sqs_endpoint, 2));
    ASSERT_TRUE(sqs) << sqs.error().to_string();
    sqs_.emplace(std::move(*sqs));
    name_ = test::unique_name("sweep");
    auto url = sqs_->create_queue(name_, {{"VisibilityTimeout", "30"}});
    ASSERT_TRUE(url) << url.error().to_string();
    url_ = *url;
    std::vector<aws::OutgoingMessage> messages;
    for (int i = 0; i < kMessages; ++i) {
      messages.push_back(aws::OutgoingMessage{"m" + std::to_string(i), {}, {}, {}});
    }
    const auto sent = sqs_->send_batch(url_, messages);
    ASSERT_TRUE(sent.ok());
  }
  void TearDown() override {
    EXPECT_EQ(stack_.clear_faults(), "");
    if (sqs_ && !url_.empty()) {
      EXPECT_TRUE(sqs_->delete_queue(url_));
    }
  }

  // Bodies seen by one whole pass.
  std::multiset<std::string> sweep_bodies(DlqSweep& sweep) {
    std::multiset<std::string> bodies;
    const auto error = sweep.run([&bodies](const std::vector<aws::SqsMessage>& batch) {
      for (const auto& message : batch) bodies.insert(message.body);
      return true;
    });
    EXPECT_FALSE(error) << error->to_string();
    return bodies;
  }

  static constexpr int kMessages = 45;
  test::LocalAws stack_;
  std::shared_ptr<aws::HttpClient> http_;
  std::optional<aws::SqsClient> sqs_;
  std::string name_;
  std::string url_;
};

TEST_F(DlqSweepLive, ReceivesEveryMessageOnceAndHandsThemAllBack) {
  DlqSweep sweep(*sqs_, url_);
  const auto bodies = sweep_bodies(sweep);
  EXPECT_EQ(bodies.size(), static_cast<std::size_t>(kMessages));
  EXPECT_EQ(std::set<std::string>(bodies.begin(), bodies.end()).size(), bodies.size())
      << "no message twice in one pass";
  EXPECT_EQ(sweep.held(), static_cast<std::size_t>(kMessages));
  EXPECT_FALSE(sweep.held_limit_reached());
  const SweepFailures back = sweep.hand_back();
  EXPECT_TRUE(back.ok()) << back.first_error;
  EXPECT_EQ(sweep.held(), 0U);
  // Visible again at once: a second pass sees them all.
  DlqSweep again(*sqs_, url_);
  EXPECT_EQ(sweep_bodies(again).size(), static_cast<std::size_t>(kMessages));
}

TEST_F(DlqSweepLive, DeletesOnlyWhatItIsTold) {
  std::vector<std::string> doomed;
  {
    DlqSweep sweep(*sqs_, url_);
    const auto error = sweep.run([&doomed](const std::vector<aws::SqsMessage>& batch) {
      for (const auto& message : batch) {
        if (message.body == "m3" || message.body == "m40") doomed.push_back(message.receipt_handle);
      }
      return true;
    });
    ASSERT_FALSE(error);
    ASSERT_EQ(doomed.size(), 2U);
    const SweepFailures removed = sweep.remove(doomed);
    EXPECT_TRUE(removed.ok()) << removed.first_error;
  }  // the destructor hands the rest back
  DlqSweep after(*sqs_, url_);
  const auto bodies = sweep_bodies(after);
  EXPECT_EQ(bodies.size(), static_cast<std::size_t>(kMessages - 2));
  EXPECT_EQ(bodies.count("m3"), 0U);
  EXPECT_EQ(bodies.count("m40"), 0U);
}

TEST_F(DlqSweepLive, ASlowPassKeepsItsMessagesHidden) {
  DlqSweepOptions options;
  options.visibility = 2s;  // extended once half of it is spent
  DlqSweep sweep(*sqs_, url_, options);
  std::multiset<std::string> bodies;
  const auto error = sweep.run([&bodies](const std::vector<aws::SqsMessage>& batch) {
    for (const auto& message : batch) bodies.insert(message.body);
    std::this_thread::sleep_for(1200ms);  // a slow caller: past the first messages' timeout
    return true;
  });
  ASSERT_FALSE(error) << error->to_string();
  EXPECT_EQ(bodies.size(), static_cast<std::size_t>(kMessages)) << "none received twice";
}

TEST_F(DlqSweepLive, StopsAtItsHeldLimitAndSaysSo) {
  DlqSweepOptions options;
  options.max_held = 20;
  DlqSweep sweep(*sqs_, url_, options);
  const auto bodies = sweep_bodies(sweep);
  EXPECT_EQ(bodies.size(), 20U);
  EXPECT_TRUE(sweep.held_limit_reached());
}

TEST_F(DlqSweepLive, AFailedDeleteKeepsTheMessageHeldAndHandsItBack) {
  DlqSweep sweep(*sqs_, url_);
  std::vector<std::string> handles;
  const auto error = sweep.run([&handles](const std::vector<aws::SqsMessage>& batch) {
    for (const auto& message : batch) handles.push_back(message.receipt_handle);
    return false;  // one batch is enough
  });
  ASSERT_FALSE(error);
  ASSERT_FALSE(handles.empty());
  const std::size_t held = sweep.held();
  ASSERT_EQ(stack_.set_faults(R"({"rules":[{"service":"sqs","operation":"DeleteMessageBatch",)"
                              R"("target":")" +
                              name_ + R"(","error":"http500"}]})"),
            "");
  const SweepFailures removed = sweep.remove({handles.front()});
  EXPECT_FALSE(removed.ok());
  EXPECT_EQ(removed.failed_handles, std::vector<std::string>{handles.front()});
  EXPECT_EQ(sweep.held(), held) << "still held, so the end of the pass hands it back";
  EXPECT_EQ(stack_.clear_faults(), "");
  const SweepFailures back = sweep.hand_back();
  EXPECT_TRUE(back.ok()) << back.first_error;
  DlqSweep again(*sqs_, url_);
  EXPECT_EQ(sweep_bodies(again).size(), static_cast<std::size_t>(kMessages)) << "nothing lost";
}

}  // namespace
}  // namespace salesflow::pipeline
