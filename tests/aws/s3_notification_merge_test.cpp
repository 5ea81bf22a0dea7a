// merge_queue_notification: salesflow's queue configuration goes into a
// bucket's notification configuration without dropping anything another owner
// of the bucket configured, and a configuration that is already there is
// reported unchanged (so no PUT, no TestEvent).
#include <gtest/gtest.h>

#include <pugixml.hpp>
#include <string>
#include <vector>

#include "aws/s3.hpp"

namespace salesflow::aws {
namespace {

QueueNotification ours() {
  QueueNotification queue;
  queue.id = "salesflow";
  queue.queue_arn = "arn:aws:sqs:eu-west-1:123456789012:salesflow-notifications";
  queue.prefix = "incoming/";
  queue.suffix = ".json";
  return queue;
}

// The element names under the root, in order.
std::vector<std::string> children(const std::string& document) {
  pugi::xml_document xml;
  EXPECT_TRUE(xml.load_string(document.c_str()));
  std::vector<std::string> names;
  for (const auto child : xml.document_element().children()) {
    names.emplace_back(child.name());
  }
  return names;
}

std::string queue_arn_of(const std::string& document, const std::string& id) {
  pugi::xml_document xml;
  EXPECT_TRUE(xml.load_string(document.c_str()));
  for (const auto child : xml.document_element().children("QueueConfiguration")) {
    if (std::string(child.child_value("Id")) == id) return child.child_value("Queue");
  }
  return {};
}

constexpr const char* kOthers =
    R"(<?xml version="1.0" encoding="UTF-8"?>)"
    R"(<NotificationConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">)"
    R"(<TopicConfiguration><Id>audit</Id><Topic>arn:aws:sns:eu-west-1:123456789012:t</Topic>)"
    R"(<Event>s3:ObjectRemoved:*</Event></TopicConfiguration>)"
    R"(<QueueConfiguration><Id>archive</Id><Queue>arn:aws:sqs:eu-west-1:123456789012:a</Queue>)"
    R"(<Event>s3:ObjectCreated:*</Event><Filter><S3Key><FilterRule><Name>Prefix</Name>)"
    R"(<Value>archive/</Value></FilterRule></S3Key></Filter></QueueConfiguration>)"
    R"(<CloudFunctionConfiguration><Id>thumbs</Id>)"
    R"(<CloudFunction>arn:aws:lambda:eu-west-1:123456789012:function:f</CloudFunction>)"
    R"(<Event>s3:ObjectCreated:Put</Event></CloudFunctionConfiguration>)"
    R"(<EventBridgeConfiguration></EventBridgeConfiguration>)"
    R"(</NotificationConfiguration>)";

TEST(MergeQueueNotification, IntoNothingAddsTheOneConfiguration) {
  for (const std::string& existing :
       {std::string(), std::string("\n"),
        std::string(
            R"(<NotificationConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"/>)")}) {
    const auto merged = merge_queue_notification(existing, ours());
    ASSERT_TRUE(merged) << merged.error();
    EXPECT_EQ(merged->change, NotificationChange::added);
    EXPECT_EQ(children(merged->document), std::vector<std::string>{"QueueConfiguration"});
    EXPECT_EQ(queue_arn_of(merged->document, "salesflow"), ours().queue_arn);
  }
}

TEST(MergeQueueNotification, KeepsEveryOtherConfigurationInSchemaOrder) {
  const auto merged = merge_queue_notification(kOthers, ours());
  ASSERT_TRUE(merged) << merged.error();
  EXPECT_EQ(merged->change, NotificationChange::added);
  EXPECT_EQ(
      children(merged->document),
      (std::vector<std::string>{"TopicConfiguration", "QueueConfiguration", "QueueConfiguration",
                                "CloudFunctionConfiguration", "EventBridgeConfiguration"}));
  EXPECT_EQ(queue_arn_of(merged->document, "archive"), "arn:aws:sqs:eu-west-1:123456789012:a");
  EXPECT_EQ(queue_arn_of(merged->document, "salesflow"), ours().queue_arn);
  EXPECT_NE(merged->document.find("<Value>archive/</Value>"), std::string::npos);
  EXPECT_NE(merged->document.find("function:f"), std::string::npos);
}

TEST(MergeQueueNotification, BeforeFunctionsWhenTheBucketHasNoQueue) {
  const std::string existing =
      R"(<NotificationConfiguration><TopicConfiguration><Id>t</Id></TopicConfiguration>)"
      R"(<EventBridgeConfiguration/></NotificationConfiguration>)";
  const auto merged = merge_queue_notification(existing, ours());
  ASSERT_TRUE(merged) << merged.error();
  EXPECT_EQ(children(merged->document),
            (std::vector<std::string>{"TopicConfiguration", "QueueConfiguration",
                                      "EventBridgeConfiguration"}));
}

TEST(MergeQueueNotification, TheSameConfigurationAsS3AnswersItIsUnchanged) {
  const auto first = merge_queue_notification(kOthers, ours());
  ASSERT_TRUE(first) << first.error();
  // S3 answers the filter rule names capitalised.
  std::string answered = first->document;
  for (const char* name : {"prefix", "suffix"}) {
    const std::string from = std::string("<Name>") + name + "</Name>";
    std::string to = from;
    to[6] = static_cast<char>(std::toupper(static_cast<unsigned char>(to[6])));
    answered.replace(answered.find(from), from.size(), to);
  }
  const auto again = merge_queue_notification(answered, ours());
  ASSERT_TRUE(again) << again.error();
  EXPECT_EQ(again->change, NotificationChange::unchanged);
}

TEST(MergeQueueNotification, AnotherQueueOrFilterUnderOurIdIsReplacedInPlace) {
  const auto first = merge_queue_notification(kOthers, ours());
  ASSERT_TRUE(first) << first.error();
  QueueNotification moved = ours();
  moved.queue_arn = "arn:aws:sqs:eu-west-1:123456789012:other";
  moved.prefix = "new/";
  const auto replaced = merge_queue_notification(first->document, moved);
  ASSERT_TRUE(replaced) << replaced.error();
  EXPECT_EQ(replaced->change, NotificationChange::replaced);
  EXPECT_EQ(children(replaced->document), children(first->document));
  EXPECT_EQ(queue_arn_of(replaced->document, "salesflow"), moved.queue_arn);
  EXPECT_EQ(replaced->document.find("incoming/"), std::string::npos);
}

TEST(MergeQueueNotification, AcceptsAWrappedOrEmptyAnswerOfOtherStores) {
  const auto empty = merge_queue_notification(
      R"(<GetBucketNotificationResponse xmlns="http://s3.amazonaws.com/doc/2006-03-01/"/>)",
      ours());
  ASSERT_TRUE(empty) << empty.error();
  EXPECT_EQ(children(empty->document), std::vector<std::string>{"QueueConfiguration"});
  const std::string others(kOthers);
  const auto inner = merge_queue_notification(
      "<Result>" + others.substr(others.find("<NotificationConfiguration")) + "</Result>", ours());
  ASSERT_TRUE(inner) << inner.error();
  EXPECT_EQ(children(inner->document).size(), 5U);
}

TEST(MergeQueueNotification, RefusesWhatIsNoNotificationConfiguration) {
  const auto malformed = merge_queue_notification("<NotificationConfiguration><Queue", ours());
  ASSERT_FALSE(malformed);
  EXPECT_NE(malformed.error().find("malformed XML"), std::string::npos) << malformed.error();
  const auto other = merge_queue_notification("<Error><Code>x</Code></Error>", ours());
  ASSERT_FALSE(other);
  EXPECT_NE(other.error().find("<Error> holding <Code>"), std::string::npos) << other.error();
  QueueNotification anonymous = ours();
  anonymous.id.clear();
  EXPECT_FALSE(merge_queue_notification("", anonymous));
}

}  // namespace
}  // namespace salesflow::aws
