#include "pipeline/s3_event.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

namespace salesflow::pipeline {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

std::string event_file(const std::string& name) {
  const std::string path = std::string(SALESFLOW_TEST_DATA_DIR) + "/events/" + name;
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in) << "cannot open " << path;
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

Notification parsed_ok(std::string_view body) {
  auto parsed = parse_notification(body);
  EXPECT_TRUE(parsed.has_value()) << parsed.error();
  return parsed ? *parsed : Notification{};
}

std::string parse_error(std::string_view body) {
  auto parsed = parse_notification(body);
  EXPECT_FALSE(parsed.has_value()) << "parsed a notification from: " << body;
  return parsed ? std::string() : parsed.error();
}

// A one-record S3 notification whose s3.object member is `object_json`.
std::string s3_body(std::string_view event_name, std::string_view object_json) {
  return std::string(R"({"Records":[{"eventVersion":"2.1","eventSource":"aws:s3",)") +
         R"("awsRegion":"us-east-1","eventTime":"2024-01-02T03:04:05.678Z","eventName":")" +
         std::string(event_name) +
         R"(","s3":{"s3SchemaVersion":"1.0","bucket":{"name":"b","arn":"arn:aws:s3:::b"},"object":)" +
         std::string(object_json) + "}}]}";
}

std::string decoded_key_of(std::string_view encoded) {
  const auto notification = parsed_ok(s3_body(
      "ObjectCreated:Put", R"({"key":")" + std::string(encoded) + R"(","size":1,"eTag":"e"})"));
  return notification.objects.empty() ? std::string() : notification.objects[0].key;
}

// ---- URL decoding of keys -------------------------------------------------

TEST(S3UrlDecodeKey, PlusIsSpaceAndPercentTwoBIsPlus) {
  EXPECT_EQ(s3_url_decode_key("in+coming/x%2By.json").value(), "in coming/x+y.json");
  EXPECT_EQ(s3_url_decode_key("a%20b").value(), "a b");
}

TEST(S3UrlDecodeKey, PercentEscapesAreUtf8Bytes) {
  EXPECT_EQ(s3_url_decode_key("%C3%A9t%C3%A9").value(), "\xC3\xA9t\xC3\xA9");
  EXPECT_EQ(s3_url_decode_key("%e6%97%a5%E6%9C%AC.json").value(), "日本.json");  // either case
  EXPECT_EQ(s3_url_decode_key("%F0%9F%98%80").value(), "\xF0\x9F\x98\x80");
}

TEST(S3UrlDecodeKey, UnescapedCharactersPassThrough) {
  EXPECT_EQ(s3_url_decode_key("sales/2024/a-b_c.d~e").value(), "sales/2024/a-b_c.d~e");
  EXPECT_EQ(s3_url_decode_key("").value(), "");
  EXPECT_EQ(s3_url_decode_key("%25").value(), "%");
  EXPECT_EQ(s3_url_decode_key("%2F").value(), "/");
}

TEST(S3UrlDecodeKey, RejectsTruncatedEscapes) {
  EXPECT_THAT(s3_url_decode_key("abc%").error(), HasSubstr("truncated percent escape at offset 3"));
  EXPECT_THAT(s3_url_decode_key("abc%4").error(), HasSubstr("truncated"));
}

TEST(S3UrlDecodeKey, RejectsNonHexEscapes) {
  EXPECT_THAT(s3_url_decode_key("a%G1").error(),
              HasSubstr("invalid percent escape \"%G1\" at offset 1"));
  EXPECT_THAT(s3_url_decode_key("a%1-b").error(), HasSubstr("invalid percent escape \"%1-\""));
  EXPECT_THAT(s3_url_decode_key("%%41").error(), HasSubstr("invalid percent escape"));
}

TEST(S3UrlDecodeKey, RejectsBytesThatAreNotUtf8) {
  EXPECT_THAT(s3_url_decode_key("%C3").error(), HasSubstr("not valid UTF-8"));
  EXPECT_THAT(s3_url_decode_key("%FF%FE").error(), HasSubstr("not valid UTF-8"));
  EXPECT_THAT(s3_url_decode_key("%C0%AF").error(), HasSubstr("not valid UTF-8"));  // overlong '/'
}

// ---- S3 event notifications -------------------------------------------------

TEST(ParseNotification, S3PutAsDelivered) {
  const auto notification = parsed_ok(event_file("s3_put.json"));
  EXPECT_FALSE(notification.test_event);
  EXPECT_THAT(notification.ignored, IsEmpty());
  ASSERT_EQ(notification.objects.size(), 1u);
  EXPECT_EQ(notification.objects[0],
            (ObjectEvent{.bucket = "salesflow-incoming",
                         .key = "sales/2024/03/14/orders batch #07+été.jsonl.gz",
                         .etag = "9b2cf535f27731c974343645a3985328",
                         .version_id = "096fKKXTRTtl3on89fVO.nfljtsv6qko",
                         .sequencer = "0065F2C1A4D5E8B9C2",
                         .event_name = "ObjectCreated:Put",
                         .event_time = "2024-03-14T09:26:53.589Z",
                         .region = "eu-west-1",
                         .size = 1048576}));
}

TEST(ParseNotification, S3SeveralRecordsInOrder) {
  const auto notification = parsed_ok(event_file("s3_multiple_created.json"));
  ASSERT_EQ(notification.objects.size(), 3u);
  EXPECT_EQ(notification.objects[0].key, "sales/a.json");
  EXPECT_EQ(notification.objects[0].size, 512u);
  EXPECT_EQ(notification.objects[1].key, "sales/big file.json.gz");
  EXPECT_EQ(notification.objects[1].event_name, "ObjectCreated:CompleteMultipartUpload");
  EXPECT_EQ(notification.objects[1].size, 5368709120u);  // beyond 32 bits
  EXPECT_EQ(notification.objects[1].etag, "3858f62230ac3c915f300c664312c11f-640");
  EXPECT_EQ(notification.objects[2].key, "sales/copied/nested.json");
  EXPECT_EQ(notification.objects[2].event_name, "ObjectCreated:Copy");
  EXPECT_EQ(notification.objects[2].size, 0u);
  EXPECT_EQ(notification.objects[2].version_id, "");  // unversioned bucket
}

TEST(ParseNotification, S3KeysDecoded) {
  EXPECT_EQ(decoded_key_of("in+coming/%C3%A9+x%2By.json"), "in coming/é x+y.json");
  EXPECT_EQ(decoded_key_of("a%2Bb"), "a+b");
  EXPECT_EQ(decoded_key_of("100%25+done"), "100% done");
  EXPECT_EQ(decoded_key_of("%E2%82%AC%F0%9F%93%88.json"), "€📈.json");
  // JSON unescaping comes first: "\u00252B" is the URL escape "%2B".
  EXPECT_EQ(decoded_key_of(R"(x\u00252By)"), "x+y");
}

TEST(ParseNotification, S3BadEscapeIsAnErrorNamingTheRecord) {
  EXPECT_THAT(parse_error(s3_body("ObjectCreated:Put", R"({"key":"a%zz","size":1})")),
              HasSubstr("Records[0].s3.object.key: invalid percent escape \"%zz\""));
  EXPECT_THAT(parse_error(s3_body("ObjectCreated:Put", R"({"key":"a%F","size":1})")),
              HasSubstr("truncated percent escape"));
  EXPECT_THAT(parse_error(s3_body("ObjectCreated:Put", R"({"key":"%FF","size":1})")),
              HasSubstr("not valid UTF-8"));
}

TEST(ParseNotification, S3QuotedEtagIsUnquoted) {
  const auto notification =
      parsed_ok(s3_body("ObjectCreated:Put", R"({"key":"k","size":3,"eTag":"\"abc\""})"));
  ASSERT_EQ(notification.objects.size(), 1u);
  EXPECT_EQ(notification.objects[0].etag, "abc");
}

TEST(ParseNotification, S3NullVersionIdIsEmpty) {
  const auto notification =
      parsed_ok(s3_body("ObjectCreated:Put", R"({"key":"k","size":3,"versionId":null})"));
  ASSERT_EQ(notification.objects.size(), 1u);
  EXPECT_EQ(notification.objects[0].version_id, "");
  EXPECT_EQ(notification.objects[0].etag, "");
}

TEST(ParseNotification, S3MissingFieldsAreErrors) {
  EXPECT_EQ(parse_error(s3_body("ObjectCreated:Put", R"({"size":1})")),
            "Records[0].s3.object.key is missing");
  EXPECT_EQ(parse_error(s3_body("ObjectCreated:Put", R"({"key":"k"})")),
            "Records[0].s3.object.size is missing");
  EXPECT_EQ(parse_error(s3_body("ObjectCreated:Put", R"({"key":"k","size":-1})")),
            "Records[0].s3.object.size is a number, not a non-negative integer");
  EXPECT_EQ(parse_error(s3_body("ObjectCreated:Put", R"({"key":"k","size":"12"})")),
            "Records[0].s3.object.size is a string, not a non-negative integer");
  EXPECT_EQ(parse_error(s3_body("ObjectCreated:Put", R"({"key":7,"size":1})")),
            "Records[0].s3.object.key is a number, not a string");
  EXPECT_EQ(parse_error(s3_body("ObjectCreated:Put", R"({"key":"","size":1})")),
            "Records[0].s3.object.key is empty");
  EXPECT_EQ(parse_error(s3_body("ObjectCreated:Put", R"({"key":"k","size":1,"eTag":5})")),
            "Records[0].s3.object.eTag is a number, not a string");
  EXPECT_EQ(parse_error(s3_body("ObjectCreated:Put", R"("k")")),
            "Records[0].s3.object is a string, not an object");
  EXPECT_EQ(parse_error(R"({"Records":[{"s3":{}}]})"), "Records[0].eventName is missing");
  EXPECT_EQ(parse_error(R"({"Records":[{"eventName":"ObjectCreated:Put"}]})"),
            "Records[0].s3 is missing");
  EXPECT_EQ(
      parse_error(
          R"({"Records":[{"eventName":"ObjectCreated:Put","s3":{"object":{"key":"k","size":1}}}]})"),
      "Records[0].s3.bucket is missing");
  EXPECT_EQ(
      parse_error(
          R"({"Records":[{"eventName":"ObjectCreated:Put","s3":{"bucket":{"name":""},"object":{"key":"k","size":1}}}]})"),
      "Records[0].s3.bucket.name is empty");
  EXPECT_EQ(parse_error(R"({"Records":[]})"), "Records is empty");
  EXPECT_EQ(parse_error(R"({"Records":{}})"), "Records is an object, not an array");
  EXPECT_EQ(parse_error(R"({"Records":[1]})"), "Records[0] is a number, not an object");
}

TEST(ParseNotification, S3OneBadRecordFailsTheWholeMessage) {
  const std::string body =
      R"({"Records":[{"eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"},"object":{"key":"ok","size":1}}},)"
      R"({"eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"},"object":{"key":"bad"}}}]})";
  EXPECT_EQ(parse_error(body), "Records[1].s3.object.size is missing");
}

TEST(ParseNotification, S3RemovedEventsAreIgnoredWithAReason) {
  const auto notification = parsed_ok(event_file("s3_removed.json"));
  EXPECT_THAT(notification.objects, IsEmpty());
  EXPECT_FALSE(notification.test_event);
  EXPECT_THAT(notification.ignored,
              ElementsAre("ObjectRemoved:Delete s3://salesflow-incoming/sales/old file.json"));
}

TEST(ParseNotification, S3IgnoredAndCreatedInOneMessage) {
  const auto notification = parsed_ok(event_file("s3_removed_and_created.json"));
  EXPECT_THAT(
      notification.ignored,
      ElementsAre("ObjectRemoved:DeleteMarkerCreated s3://salesflow-incoming/sales/gone.json"));
  ASSERT_EQ(notification.objects.size(), 1u);
  EXPECT_EQ(notification.objects[0].key, "sales/new.json");
  EXPECT_EQ(notification.objects[0].event_name, "ObjectCreated:Post");
  EXPECT_EQ(notification.objects[0].etag, "6805f2cfc46c0f04559748bb039d69ae");
}

TEST(ParseNotification, S3OtherEventTypesAreIgnoredEvenWithoutObjectFields) {
  const auto notification = parsed_ok(
      R"({"Records":[{"eventName":"ObjectRestore:Completed","s3":{"bucket":{"name":"b"},"object":{"key":"x%2By"}}},)"
      R"({"eventName":"LifecycleExpiration:Delete","s3":{}}]})");
  EXPECT_THAT(notification.objects, IsEmpty());
  EXPECT_THAT(notification.ignored, ElementsAre("ObjectRestore:Completed s3://b/x+y",
                                                "LifecycleExpiration:Delete s3://?/?"));
}

TEST(ParseNotification, S3EventNamePrefixedWithS3IsAccepted) {
  const auto notification = parsed_ok(s3_body("s3:ObjectCreated:Put", R"({"key":"k","size":1})"));
  ASSERT_EQ(notification.objects.size(), 1u);
  EXPECT_EQ(notification.objects[0].event_name, "ObjectCreated:Put");
}

TEST(ParseNotification, S3TestEvent) {
  const auto notification = parsed_ok(event_file("s3_test_event.json"));
  EXPECT_TRUE(notification.test_event);
  EXPECT_THAT(notification.objects, IsEmpty());
  EXPECT_THAT(notification.ignored, IsEmpty());
}

TEST(ParseNotification, UnknownAmazonS3EventIsAnError) {
  EXPECT_EQ(parse_error(R"({"Service":"Amazon S3","Event":"s3:Other"})"),
            "Amazon S3 message with unknown Event \"s3:Other\"");
}

// ---- SNS envelopes ---------------------------------------------------------------

TEST(ParseNotification, SnsWrappedS3EventEqualsTheDirectOne) {
  const auto wrapped = parsed_ok(event_file("sns_s3_put.json"));
  const auto direct = parsed_ok(event_file("s3_put.json"));
  ASSERT_EQ(wrapped.objects.size(), 1u);
  EXPECT_EQ(wrapped.objects, direct.objects);
}

TEST(ParseNotification, SnsWrappedTestEvent) {
  EXPECT_TRUE(parsed_ok(event_file("sns_s3_test_event.json")).test_event);
}

TEST(ParseNotification, SnsSubscriptionConfirmationIsAnError) {
  EXPECT_EQ(parse_error(event_file("sns_subscription_confirmation.json")),
            "SNS message of Type \"SubscriptionConfirmation\" is not a notification");
}

TEST(ParseNotification, SnsMessageErrorsSayTheyComeFromTheMessage) {
  EXPECT_THAT(parse_error(R"({"Type":"Notification","Message":"not json"})"),
              HasSubstr("SNS Message: not JSON"));
  EXPECT_EQ(parse_error(R"({"Type":"Notification","Message":{"Records":[]}})"),
            "Message is an object, not a string");
  EXPECT_EQ(
      parse_error(
          R"({"Type":"Notification","Message":"{\"Records\":[{\"eventName\":\"ObjectCreated:Put\",\"s3\":{\"bucket\":{\"name\":\"b\"},\"object\":{\"key\":\"k\"}}}]}"})"),
      "SNS Message: Records[0].s3.object.size is missing");
}

TEST(ParseNotification, SnsInsideSnsIsAnError) {
  EXPECT_EQ(
      parse_error(
          R"({"Type":"Notification","Message":"{\"Type\":\"Notification\",\"Message\":\"{}\"}"})"),
      "SNS Message: an SNS envelope inside an SNS envelope");
}

// ---- EventBridge ---------------------------------------------------------------------

TEST(ParseNotification, EventBridgeObjectCreatedKeyIsNotDecoded) {
  const auto notification = parsed_ok(event_file("eventbridge_object_created.json"));
  ASSERT_EQ(notification.objects.size(), 1u);
  EXPECT_EQ(notification.objects[0],
            (ObjectEvent{.bucket = "salesflow-incoming",
                         .key = "sales/2024/03/14/orders batch #07+été.jsonl.gz",
                         .etag = "b1946ac92492d2347c6235b4d2611184",
                         .version_id = "IYV3p45BT0ac8hjHg1houSdS1a.Mro8e",
                         .sequencer = "00617F08299329D189",
                         .event_name = "ObjectCreated:Put",
                         .event_time = "2024-03-14T09:26:53Z",
                         .region = "eu-west-1",
                         .size = 1048576}));
}

TEST(ParseNotification, EventBridgeKeyWithPercentStaysAsIs) {
  const auto notification = parsed_ok(
      R"({"version":"0","detail-type":"Object Created","source":"aws.s3","detail":{"bucket":{"name":"b"},"object":{"key":"a%2Bb+c%zz","size":2}}})");
  ASSERT_EQ(notification.objects.size(), 1u);
  EXPECT_EQ(notification.objects[0].key, "a%2Bb+c%zz");
  EXPECT_EQ(notification.objects[0].event_name, "ObjectCreated:*");  // no reason given
}

TEST(ParseNotification, EventBridgeReasonsMapToS3EventNames) {
  EXPECT_EQ(parsed_ok(event_file("eventbridge_multipart_created.json")).objects.at(0).event_name,
            "ObjectCreated:CompleteMultipartUpload");
  const auto with_reason = [](std::string_view reason) {
    return std::string(
               R"({"detail-type":"Object Created","source":"aws.s3","detail":{"bucket":{"name":"b"},"object":{"key":"k","size":1},"reason":")") +
           std::string(reason) + R"("}})";
  };
  EXPECT_EQ(parsed_ok(with_reason("CopyObject")).objects.at(0).event_name, "ObjectCreated:Copy");
  EXPECT_EQ(parsed_ok(with_reason("PostObject")).objects.at(0).event_name, "ObjectCreated:Post");
  EXPECT_EQ(parsed_ok(with_reason("Future")).objects.at(0).event_name, "ObjectCreated:Future");
}

TEST(ParseNotification, EventBridgeObjectDeletedIsIgnored) {
  const auto notification = parsed_ok(event_file("eventbridge_object_deleted.json"));
  EXPECT_THAT(notification.objects, IsEmpty());
  EXPECT_THAT(notification.ignored,
              ElementsAre("Object Deleted s3://salesflow-incoming/sales/old.json"));
}

TEST(ParseNotification, EventBridgeMissingFieldsAreErrors) {
  EXPECT_EQ(parse_error(R"({"detail-type":"Object Created","source":"aws.s3"})"),
            "detail is missing");
  EXPECT_EQ(
      parse_error(
          R"({"detail-type":"Object Created","source":"aws.s3","detail":{"object":{"key":"k","size":1}}})"),
      "detail.bucket is missing");
  EXPECT_EQ(
      parse_error(
          R"({"detail-type":"Object Created","source":"aws.s3","detail":{"bucket":{"name":"b"},"object":{"size":1}}})"),
      "detail.object.key is missing");
  EXPECT_EQ(
      parse_error(
          R"({"detail-type":"Object Created","source":"aws.s3","detail":{"bucket":{"name":"b"},"object":{"key":"k"}}})"),
      "detail.object.size is missing");
  EXPECT_EQ(
      parse_error(
          R"({"detail-type":"Object Created","source":"aws.s3","detail":{"bucket":{"name":"b"},"object":{"key":"","size":1}}})"),
      "detail.object.key is empty");
  EXPECT_EQ(parse_error(R"({"detail-type":"Object Created","detail":{}})"), "source is missing");
}

TEST(ParseNotification, EventBridgeFromAnotherSourceIsAnError) {
  EXPECT_EQ(
      parse_error(
          R"({"detail-type":"EC2 Instance State-change Notification","source":"aws.ec2","detail":{}})"),
      "EventBridge event \"EC2 Instance State-change Notification\" from source \"aws.ec2\" "
      "is not an S3 event");
}

// ---- Anything else ---------------------------------------------------------------------

TEST(ParseNotification, GarbageIsAnError) {
  EXPECT_THAT(parse_error(""), HasSubstr("not JSON"));
  EXPECT_THAT(parse_error("hello"), HasSubstr("not JSON"));
  EXPECT_THAT(parse_error(R"({"Records":[)"), HasSubstr("not JSON"));
  EXPECT_THAT(parse_error("\xFF\xFE{}"), HasSubstr("not JSON"));
  EXPECT_EQ(parse_error("[1,2]"), "the message is an array, not a JSON object");
  EXPECT_EQ(parse_error("\"Records\""), "the message is a string, not a JSON object");
}

TEST(ParseNotification, UnknownShapeNamesItsMembers) {
  EXPECT_EQ(parse_error(R"({"hello":1,"world":2})"),
            "not an S3, SNS or EventBridge notification (top-level members: \"hello\", \"world\")");
  EXPECT_EQ(parse_error("{}"),
            "not an S3, SNS or EventBridge notification (top-level members: none)");
  EXPECT_EQ(parse_error(R"({"a":1,"b":2,"c":3,"d":4,"e":5,"f":6,"g":7})"),
            "not an S3, SNS or EventBridge notification (top-level members: \"a\", \"b\", \"c\", "
            "\"d\", \"e\", \"f\", ...)");
}

}  // namespace
}  // namespace salesflow::pipeline
