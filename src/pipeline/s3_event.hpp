#pragma once
// The objects an SQS message body announces. Three deliveries reach the
// notification queue: S3 event notifications sent straight to SQS, the same
// wrapped in an SNS envelope (SNS → SQS without raw message delivery), and
// EventBridge "Object Created" events. Pure: bytes in, values out.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <tl/expected.hpp>
#include <vector>

#include "pipeline/observer.hpp"

namespace salesflow::pipeline {

// One created object, with its key decoded (S3 notifications URL-encode keys;
// EventBridge does not).
struct ObjectEvent {
  std::string bucket;
  std::string key;
  std::string etag;        // without surrounding quotes; empty when not given
  std::string version_id;  // empty for an unversioned bucket
  std::string sequencer;
  std::string event_name;  // "ObjectCreated:Put"; EventBridge reasons map to the same names
  std::string event_time;  // ISO-8601 as sent
  std::string region;
  std::uint64_t size = 0;

  bool operator==(const ObjectEvent&) const = default;
};

struct Notification {
  std::vector<ObjectEvent> objects;  // in the order the message lists them
  bool test_event = false;           // s3:TestEvent: nothing to do but delete it
  // One line per event that is not an object creation ("ObjectRemoved:Delete
  // s3://bucket/key"): the worker logs them and deletes the message.
  std::vector<std::string> ignored;
};

// An error for a body that is not JSON, has an unknown shape, or lacks a field
// an object creation needs (bucket, key, size); one bad record fails the whole
// message, so it stays intact for the poison queue.
[[nodiscard]] tl::expected<Notification, std::string> parse_notification(std::string_view body);

// What a parsed message turned out to be, for the observers.
[[nodiscard]] NotificationKind kind_of(const tl::expected<Notification, std::string>& parsed);

// Decodes a key as S3 writes it into event notifications
// (application/x-www-form-urlencoded): '+' is a space, %XX is one byte of the
// UTF-8 key. Errors for a truncated or non-hex escape and for bytes that are
// not UTF-8.
// One message of an SQS event source mapping's batch, as Lambda hands it over.
struct QueuedMessage {
  std::string message_id;      // what batchItemFailures names
  std::string receipt_handle;  // to change its visibility
  std::string body;            // a notification (parse_notification)
  std::string queue_arn;       // eventSourceARN: arn:aws:sqs:REGION:ACCOUNT:NAME
  int receive_count = 1;       // attributes.ApproximateReceiveCount
};

// What a Lambda function is invoked with: an SQS batch (messages), or a
// notification itself (an S3 event or an EventBridge event invoking the
// function directly; an SNS-wrapped one too).
struct LambdaEvent {
  std::vector<QueuedMessage> messages;
  std::optional<Notification> direct;
};

// An error names what is wrong with the event as a whole; a message whose
// body is not a notification is not an error here (parse_notification tells).
[[nodiscard]] tl::expected<LambdaEvent, std::string> parse_lambda_event(std::string_view payload);

// The queue's name in an SQS ARN, or an error.
[[nodiscard]] tl::expected<std::string, std::string> queue_name_from_arn(std::string_view arn);

[[nodiscard]] tl::expected<std::string, std::string> s3_url_decode_key(std::string_view encoded);

}  // namespace salesflow::pipeline
