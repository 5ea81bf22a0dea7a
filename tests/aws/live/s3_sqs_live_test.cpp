// S3 and SQS clients against the local stack, with and without injected faults.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "aws/s3.hpp"
#include "aws/sqs.hpp"
#include "support/localaws.hpp"

namespace salesflow::aws {
namespace {

using namespace std::chrono_literals;

class S3SqsLive : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto stack = test::LocalAws::from_env();
    ASSERT_TRUE(stack) << "the local AWS stack environment is not set";
    stack_ = *stack;
    http_ = std::make_shared<HttpClient>();
    auto s3 = S3Client::create(test::local_client_config(http_, stack_.s3_endpoint, 6));
    ASSERT_TRUE(s3) << s3.error().to_string();
    s3_.emplace(std::move(*s3));
    auto sqs = SqsClient::create(test::local_client_config(http_, stack_.sqs_endpoint, 6));
    ASSERT_TRUE(sqs) << sqs.error().to_string();
    sqs_.emplace(std::move(*sqs));
    bucket_ = test::unique_name("transport-bucket");
    queue_name_ = test::unique_name("transport-queue");
    ASSERT_TRUE(s3_->create_bucket(bucket_));
    auto url = sqs_->create_queue(queue_name_, {{"VisibilityTimeout", "30"}});
    ASSERT_TRUE(url) << url.error().to_string();
    queue_url_ = *url;
  }
  void TearDown() override {
    if (sqs_) {
      EXPECT_EQ(stack_.clear_faults(), "");
      EXPECT_TRUE(sqs_->delete_queue(queue_url_));
    }
  }

  std::vector<SqsMessage> drain(std::size_t expected) {
    std::vector<SqsMessage> all;
    for (int round = 0; round < 40 && all.size() < expected; ++round) {
      ReceiveOptions options;
      options.wait_seconds = 1;
      auto got = sqs_->receive(queue_url_, options);
      EXPECT_TRUE(got) << got.error().to_string();
      if (!got) break;
      std::vector<std::string> handles;
      for (auto& message : *got) {
        handles.push_back(message.receipt_handle);
        all.push_back(std::move(message));
      }
      if (!handles.empty()) {
        const auto deleted = sqs_->delete_batch(queue_url_, handles);
        EXPECT_TRUE(deleted && deleted->ok());
      }
    }
    return all;
  }

  static std::string object_bytes(std::size_t size) {
    std::string bytes(size, '\0');
    for (std::size_t i = 0; i < size; ++i) bytes[i] = static_cast<char>((i * 131 + i / 7) & 0xff);
    return bytes;
  }

  test::LocalAws stack_;
  std::shared_ptr<HttpClient> http_;
  std::optional<S3Client> s3_;
  std::optional<SqsClient> sqs_;
  std::string bucket_;
  std::string queue_name_;
  std::string queue_url_;
};

TEST_F(S3SqsLive, PutHeadGetListAndRanges) {
  const std::string body = object_bytes(300000);
  const std::string key = "in/some dir/a+b ü.json";
  const auto put = s3_->put_object(bucket_, key, body);
  ASSERT_TRUE(put) << put.error().to_string();
  EXPECT_FALSE(put->etag.empty());
  const auto head = s3_->head_object(bucket_, key);
  ASSERT_TRUE(head) << head.error().to_string();
  EXPECT_EQ(head->size, body.size());
  EXPECT_EQ(head->etag, put->etag);

  std::string got;
  const auto info = s3_->get_object(bucket_, key, [&](std::string_view c) {
    got.append(c);
    return true;
  });
  ASSERT_TRUE(info) << info.error().to_string();
  EXPECT_TRUE(got == body);
  EXPECT_EQ(info->size, body.size());

  std::string part;
  GetObjectOptions range;
  range.range_start = 1000;
  range.range_end = 1999;
  ASSERT_TRUE(s3_->get_object(
      bucket_, key,
      [&](std::string_view c) {
        part.append(c);
        return true;
      },
      range));
  EXPECT_EQ(part, body.substr(1000, 1000));

  for (int i = 0; i < 5; ++i) ASSERT_TRUE(s3_->put_object(bucket_, fmt::format("list/{}", i), "x"));
  const auto page = s3_->list_objects(bucket_, "list/", "", 2);
  ASSERT_TRUE(page) << page.error().to_string();
  EXPECT_EQ(page->objects.size(), 2u);
  EXPECT_FALSE(page->next_continuation_token.empty());
  const auto all = s3_->list_all_objects(bucket_, "list/");
  ASSERT_TRUE(all);
  EXPECT_EQ(all->size(), 5u);

  const auto missing = s3_->head_object(bucket_, "nope");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().http_status, 404);
  EXPECT_FALSE(missing.error().retryable);
  const auto missing_get = s3_->get_object(bucket_, "nope", [](std::string_view) { return true; });
  ASSERT_FALSE(missing_get);
  EXPECT_EQ(missing_get.error().code, "NoSuchKey");
  const auto again = s3_->create_bucket(bucket_);   // idempotent
  ASSERT_TRUE(again) << again.error().to_string();  // us-east-1 answers 200 again
}

TEST_F(S3SqsLive, GetObjectResumesAfterACutWithExactlyTheObjectsBytes) {
  const std::string body = object_bytes(1 << 20);
  const std::string key = "cut/object.bin";
  ASSERT_TRUE(s3_->put_object(bucket_, key, body));
  ASSERT_EQ(
      stack_.set_faults(fmt::format(
          R"({{"rules":[{{"service":"s3","operation":"GetObject","target":"{}","count":3,"cut_after_bytes":100000}}]}})",
          bucket_)),
      "");
  std::string got;
  const auto info = s3_->get_object(bucket_, key, [&](std::string_view c) {
    got.append(c);
    return true;
  });
  ASSERT_TRUE(info) << info.error().to_string();
  EXPECT_EQ(got.size(), body.size());
  EXPECT_TRUE(got == body);
}

TEST_F(S3SqsLive, GetObjectPinnedToAReplacedObjectFails) {
  const std::string key = "pinned.bin";
  ASSERT_TRUE(s3_->put_object(bucket_, key, "first"));
  GetObjectOptions options;
  options.if_match = "\"0123456789abcdef0123456789abcdef\"";
  const auto got = s3_->get_object(
      bucket_, key, [](std::string_view) { return true; }, options);
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().http_status, 412);
  EXPECT_FALSE(got.error().retryable);
}

TEST_F(S3SqsLive, SendBatchReceiveAndDeleteEveryMessage) {
  std::vector<OutgoingMessage> messages;
  for (int i = 0; i < 37; ++i) {
    messages.push_back(
        {fmt::format(R"({{"n":{},"text":"héllo \"{}\""}})", i, i), {{"reason", "test"}}, {}, {}});
  }
  const auto sent = sqs_->send_batch(queue_url_, messages);
  EXPECT_TRUE(sent.ok()) << (sent.error ? sent.error->to_string() : "");
  EXPECT_EQ(std::count_if(sent.message_ids.begin(), sent.message_ids.end(),
                          [](auto& id) { return !id.empty(); }),
            37);
  const auto received = drain(37);
  ASSERT_EQ(received.size(), 37u);
  std::set<std::string> bodies;
  for (const auto& m : received) {
    bodies.insert(m.body);
    EXPECT_EQ(m.receive_count(), 1);
    EXPECT_EQ(m.message_attributes.at("reason"), "test");
  }
  for (const auto& m : messages) EXPECT_TRUE(bodies.count(m.body)) << m.body;
}

TEST_F(S3SqsLive, PartialBatchFailuresAreResentAndNothingIsLost) {
  ASSERT_EQ(
      stack_.set_faults(fmt::format(
          R"({{"rules":[{{"service":"sqs","operation":"SendMessageBatch","target":"{}","probability":0.8,"failed_entries":0.5}},
                               {{"service":"sqs","operation":"SendMessageBatch","target":"{}","probability":0.2,"error":"http503"}}]}})",
          queue_name_, queue_name_)),
      "");
  std::vector<OutgoingMessage> messages;
  for (int i = 0; i < 50; ++i) messages.push_back({fmt::format("message-{}", i), {}, {}, {}});
  SendBatchOptions options;
  options.policy = RetryPolicy{
      .max_attempts = 30, .base_delay = 1ms, .max_backoff = 50ms, .deadline = std::nullopt};
  const auto sent = sqs_->send_batch(queue_url_, messages, options);
  ASSERT_EQ(stack_.clear_faults(), "");
  // The fault fails a lone remaining entry on every round it fires, so an
  // entry may run out of rounds: then it must be named, never dropped.
  std::set<std::size_t> reported;
  for (const auto& failure : sent.failed) {
    EXPECT_FALSE(failure.sender_fault);
    reported.insert(failure.index);
  }
  EXPECT_LE(reported.size(), 2u);
  const auto received = drain(50 - reported.size());
  std::set<std::string> bodies;
  for (const auto& m : received) bodies.insert(m.body);
  EXPECT_EQ(received.size(), bodies.size());  // resends did not duplicate
  for (std::size_t i = 0; i < messages.size(); ++i) {
    const bool delivered = bodies.count(messages[i].body) == 1;
    EXPECT_NE(delivered, reported.count(i) == 1) << "entry " << i << " lost or reported twice";
    EXPECT_EQ(delivered, !sent.message_ids[i].empty());
  }
}

// A FIFO queue drops a message whose deduplication id it has already
// accepted: a resend after a crash leaves one message, and the resend is
// answered as sent (with the first message's id).
TEST_F(S3SqsLive, FifoQueueDropsRepeatedDeduplicationIds) {
  const std::string name = test::unique_name("transport-fifo") + ".fifo";
  ASSERT_TRUE(is_fifo_queue(name));
  auto url = sqs_->create_queue(name, {{"FifoQueue", "true"}, {"VisibilityTimeout", "30"}});
  ASSERT_TRUE(url) << url.error().to_string();
  std::vector<OutgoingMessage> messages;
  for (int i = 0; i < 12; ++i) {
    const std::string id = fmt::format("envelope-{}", i % 8);  // 4 repeats
    messages.push_back({fmt::format("body-{}", i % 8), {}, id, id});
  }
  const auto first = sqs_->send_batch(*url, messages);
  ASSERT_TRUE(first.ok()) << (first.error ? first.error->to_string() : "");
  const auto again = sqs_->send_batch(*url, messages);  // a whole resend
  ASSERT_TRUE(again.ok()) << (again.error ? again.error->to_string() : "");
  for (const auto& id : again.message_ids) EXPECT_FALSE(id.empty());
  std::multiset<std::string> bodies;
  for (int round = 0; round < 10; ++round) {
    ReceiveOptions options;
    options.wait_seconds = 1;
    options.max_messages = 10;
    auto got = sqs_->receive(*url, options);
    ASSERT_TRUE(got) << got.error().to_string();
    if (got->empty() && bodies.size() >= 8) break;
    std::vector<std::string> handles;
    for (const auto& message : *got) {
      bodies.insert(message.body);
      handles.push_back(message.receipt_handle);
    }
    if (!handles.empty()) {
      ASSERT_TRUE(sqs_->delete_batch(*url, handles));
    }
  }
  EXPECT_EQ(bodies.size(), 8u);
  for (int i = 0; i < 8; ++i) EXPECT_EQ(bodies.count(fmt::format("body-{}", i)), 1u) << i;
  ASSERT_TRUE(sqs_->delete_queue(*url));
}

TEST_F(S3SqsLive, QueueAdministrationAndVisibility) {
  const auto again = sqs_->create_queue(queue_name_, {{"VisibilityTimeout", "30"}});
  ASSERT_TRUE(again) << again.error().to_string();
  EXPECT_EQ(*again, queue_url_);
  const auto url = sqs_->get_queue_url(queue_name_);
  ASSERT_TRUE(url);
  EXPECT_EQ(*url, queue_url_);
  const auto attributes = sqs_->get_queue_attributes(queue_url_);
  ASSERT_TRUE(attributes) << attributes.error().to_string();
  EXPECT_EQ(attributes->at("VisibilityTimeout"), "30");
  ASSERT_TRUE(sqs_->set_queue_attributes(queue_url_, {{"VisibilityTimeout", "45"}}));
  EXPECT_EQ(sqs_->get_queue_attributes(queue_url_, {"VisibilityTimeout"})->at("VisibilityTimeout"),
            "45");
  const auto missing = sqs_->get_queue_url(queue_name_ + "-absent");
  ASSERT_FALSE(missing);
  EXPECT_FALSE(missing.error().retryable);

  ASSERT_TRUE(sqs_->send(queue_url_, {"visible", {}, {}, {}}));
  ReceiveOptions options;
  options.wait_seconds = 2;
  auto first = sqs_->receive(queue_url_, options);
  ASSERT_TRUE(first && first->size() == 1u);
  ASSERT_TRUE(sqs_->change_visibility(queue_url_, {(*first)[0].receipt_handle, 0}));
  auto second = sqs_->receive(queue_url_, options);
  ASSERT_TRUE(second && second->size() == 1u);
  EXPECT_EQ((*second)[0].receive_count(), 2);
  const auto changed =
      sqs_->change_visibility_batch(queue_url_, {{(*second)[0].receipt_handle, 0}});
  ASSERT_TRUE(changed && changed->ok());
  ASSERT_TRUE(sqs_->purge_queue(queue_url_));
}

TEST_F(S3SqsLive, BucketNotificationsDeliverToTheQueue) {
  const auto attributes = sqs_->get_queue_attributes(queue_url_, {"QueueArn"});
  ASSERT_TRUE(attributes) << attributes.error().to_string();
  QueueNotification notification;
  notification.queue_arn = attributes->at("QueueArn");
  notification.prefix = "incoming/";
  notification.suffix = ".json";
  const auto configured = s3_->put_bucket_notification(bucket_, {notification});
  ASSERT_TRUE(configured) << configured.error().to_string();
  ASSERT_TRUE(s3_->put_object(bucket_, "incoming/a.json", "{}"));
  ASSERT_TRUE(s3_->put_object(bucket_, "other/b.json", "{}"));
  // AWS also sends an s3:TestEvent when the configuration is put.
  const auto events = drain(2);
  const auto mentions = [&](std::string_view key) {
    return std::count_if(events.begin(), events.end(), [&](const SqsMessage& m) {
      return m.body.find(key) != std::string::npos;
    });
  };
  EXPECT_EQ(mentions("incoming/a.json"), 1);
  EXPECT_EQ(mentions("other/b.json"), 0);
}

TEST_F(S3SqsLive, MergedNotificationKeepsTheBucketsOtherConfiguration) {
  const auto attributes = sqs_->get_queue_attributes(queue_url_, {"QueueArn"});
  ASSERT_TRUE(attributes) << attributes.error().to_string();
  QueueNotification archive;
  archive.id = "archive";
  archive.queue_arn = attributes->at("QueueArn");
  archive.prefix = "archive/";
  ASSERT_TRUE(s3_->put_bucket_notification(bucket_, {archive}));
  QueueNotification ours = archive;
  ours.id = "salesflow";
  ours.prefix = "incoming/";
  const auto merged = s3_->merge_bucket_notification(bucket_, ours);
  ASSERT_TRUE(merged) << merged.error().to_string();
  EXPECT_EQ(*merged, NotificationChange::added);
  const auto again = s3_->merge_bucket_notification(bucket_, ours);
  ASSERT_TRUE(again) << again.error().to_string();
  EXPECT_EQ(*again, NotificationChange::unchanged);
  ASSERT_TRUE(s3_->put_object(bucket_, "archive/a.json", "{}"));
  ASSERT_TRUE(s3_->put_object(bucket_, "incoming/b.json", "{}"));
  ASSERT_TRUE(s3_->put_object(bucket_, "elsewhere/c.json", "{}"));
  const auto events = drain(3);  // with the TestEvent of the first PUT
  const auto mentions = [&](std::string_view key) {
    return std::count_if(events.begin(), events.end(), [&](const SqsMessage& m) {
      return m.body.find(key) != std::string::npos;
    });
  };
  EXPECT_EQ(mentions("archive/a.json"), 1);
  EXPECT_EQ(mentions("incoming/b.json"), 1);
  EXPECT_EQ(mentions("elsewhere/c.json"), 0);
  EXPECT_EQ(mentions("s3:TestEvent"), 1);
}

TEST_F(S3SqsLive, MergeIntoAMissingBucketFailsWithS3sError) {
  QueueNotification ours;
  ours.id = "salesflow";
  ours.queue_arn = "arn:aws:sqs:us-east-1:000000000000:" + queue_name_;
  const auto merged = s3_->merge_bucket_notification(bucket_ + "-absent", ours);
  ASSERT_FALSE(merged);
  EXPECT_EQ(merged.error().code, "NoSuchBucket") << merged.error().to_string();
}

}  // namespace
}  // namespace salesflow::aws
