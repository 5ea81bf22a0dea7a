#include "pipeline/s3_event.hpp"

#include <fmt/format.h>
#include <simdjson.h>

#include <charconv>

#include "base/text.hpp"

namespace salesflow::pipeline {
namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;
using simdjson::dom::object;
using Error = tl::unexpected<std::string>;

constexpr std::string_view kObjectCreatedPrefix = "ObjectCreated:";

std::string_view type_name(element_type type) {
  switch (type) {
    case element_type::ARRAY:
      return "an array";
    case element_type::OBJECT:
      return "an object";
    case element_type::INT64:
    case element_type::UINT64:
    case element_type::DOUBLE:
      return "a number";
    case element_type::STRING:
      return "a string";
    case element_type::BOOL:
      return "a boolean";
    case element_type::NULL_VALUE:
      return "null";
  }
  return "a value";
}

// `path` names the member in messages, e.g. "Records[0].s3.object.key".
tl::expected<element, std::string> member(object parent, std::string_view name,
                                          std::string_view path) {
  element value;
  if (parent.at_key(name).get(value) != simdjson::SUCCESS) {
    return Error(fmt::format("{} is missing", path));
  }
  return value;
}

tl::expected<object, std::string> object_member(object parent, std::string_view name,
                                                std::string_view path) {
  auto value = member(parent, name, path);
  if (!value) return Error(value.error());
  object result;
  if (value->get_object().get(result) != simdjson::SUCCESS) {
    return Error(fmt::format("{} is {}, not an object", path, type_name(value->type())));
  }
  return result;
}

tl::expected<std::string_view, std::string> string_member(object parent, std::string_view name,
                                                          std::string_view path) {
  auto value = member(parent, name, path);
  if (!value) return Error(value.error());
  std::string_view result;
  if (value->get_string().get(result) != simdjson::SUCCESS) {
    return Error(fmt::format("{} is {}, not a string", path, type_name(value->type())));
  }
  return result;
}

// Missing or null is empty; any other non-string is an error.
tl::expected<std::string_view, std::string> optional_string_member(object parent,
                                                                   std::string_view name,
                                                                   std::string_view path) {
  element value;
  if (parent.at_key(name).get(value) != simdjson::SUCCESS || value.is_null()) {
    return std::string_view{};
  }
  std::string_view result;
  if (value.get_string().get(result) != simdjson::SUCCESS) {
    return Error(fmt::format("{} is {}, not a string", path, type_name(value.type())));
  }
  return result;
}

tl::expected<std::uint64_t, std::string> size_member(object parent, std::string_view name,
                                                     std::string_view path) {
  auto value = member(parent, name, path);
  if (!value) return Error(value.error());
  std::uint64_t result = 0;
  if (value->get_uint64().get(result) != simdjson::SUCCESS) {
    return Error(
        fmt::format("{} is {}, not a non-negative integer", path, type_name(value->type())));
  }
  return result;
}

// Best effort, for describing an event that is ignored anyway.
std::string_view lookup_string(object parent, std::string_view first, std::string_view second) {
  std::string_view result;
  if (parent.at_pointer(fmt::format("/{}/{}", first, second)).get_string().get(result) !=
      simdjson::SUCCESS) {
    return "?";
  }
  return result;
}

std::string member_names(object value) {
  std::string names;
  std::size_t count = 0;
  for (const auto field : value) {
    if (count == 6) {
      names += ", ...";
      break;
    }
    if (count > 0) names += ", ";
    names += fmt::format("\"{}\"", field.key);
    ++count;
  }
  return names.empty() ? "none" : names;
}

tl::expected<void, std::string> parse_s3_record(element record_value, std::size_t index,
                                                Notification& out) {
  const std::string where = fmt::format("Records[{}]", index);
  object record;
  if (record_value.get_object().get(record) != simdjson::SUCCESS) {
    return Error(fmt::format("{} is {}, not an object", where, type_name(record_value.type())));
  }
  auto event_name = string_member(record, "eventName", where + ".eventName");
  if (!event_name) return Error(event_name.error());
  auto s3 = object_member(record, "s3", where + ".s3");
  if (!s3) return Error(s3.error());

  // Some S3-compatible stores prefix the event name with "s3:".
  std::string_view name = *event_name;
  if (name.starts_with("s3:")) name.remove_prefix(3);
  if (!name.starts_with(kObjectCreatedPrefix)) {
    const std::string_view raw_key = lookup_string(*s3, "object", "key");
    const auto decoded = s3_url_decode_key(raw_key);
    out.ignored.push_back(fmt::format("{} s3://{}/{}", name, lookup_string(*s3, "bucket", "name"),
                                      decoded ? std::string_view(*decoded) : raw_key));
    return {};
  }

  auto bucket = object_member(*s3, "bucket", where + ".s3.bucket");
  if (!bucket) return Error(bucket.error());
  auto object_info = object_member(*s3, "object", where + ".s3.object");
  if (!object_info) return Error(object_info.error());
  auto bucket_name = string_member(*bucket, "name", where + ".s3.bucket.name");
  if (!bucket_name) return Error(bucket_name.error());
  if (bucket_name->empty()) return Error(where + ".s3.bucket.name is empty");
  auto raw_key = string_member(*object_info, "key", where + ".s3.object.key");
  if (!raw_key) return Error(raw_key.error());
  auto key = s3_url_decode_key(*raw_key);
  if (!key) return Error(fmt::format("{}.s3.object.key: {}", where, key.error()));
  if (key->empty()) return Error(where + ".s3.object.key is empty");
  auto size = size_member(*object_info, "size", where + ".s3.object.size");
  if (!size) return Error(size.error());
  auto etag = optional_string_member(*object_info, "eTag", where + ".s3.object.eTag");
  if (!etag) return Error(etag.error());
  auto version_id =
      optional_string_member(*object_info, "versionId", where + ".s3.object.versionId");
  if (!version_id) return Error(version_id.error());
  auto sequencer =
      optional_string_member(*object_info, "sequencer", where + ".s3.object.sequencer");
  if (!sequencer) return Error(sequencer.error());
  auto event_time = optional_string_member(record, "eventTime", where + ".eventTime");
  if (!event_time) return Error(event_time.error());
  auto region = optional_string_member(record, "awsRegion", where + ".awsRegion");
  if (!region) return Error(region.error());

  out.objects.push_back(ObjectEvent{.bucket = std::string(*bucket_name),
                                    .key = std::move(*key),
                                    .etag = std::string(base::strip_etag_quotes(*etag)),
                                    .version_id = std::string(*version_id),
                                    .sequencer = std::string(*sequencer),
                                    .event_name = std::string(name),
                                    .event_time = std::string(*event_time),
                                    .region = std::string(*region),
                                    .size = *size});
  return {};
}

tl::expected<Notification, std::string> parse_s3_event(object root) {
  element records_value;
  if (root.at_key("Records").get(records_value) != simdjson::SUCCESS) {
    return Error("Records is missing");
  }
  simdjson::dom::array records;
  if (records_value.get_array().get(records) != simdjson::SUCCESS) {
    return Error(fmt::format("Records is {}, not an array", type_name(records_value.type())));
  }
  if (records.size() == 0) return Error("Records is empty");
  Notification notification;
  std::size_t index = 0;
  for (const element record : records) {
    if (auto parsed = parse_s3_record(record, index, notification); !parsed) {
      return Error(parsed.error());
    }
    ++index;
  }
  return notification;
}

std::string event_name_for_reason(std::string_view reason) {
  // EventBridge names the API call; S3 notifications name the event type.
  if (reason == "PutObject") return "ObjectCreated:Put";
  if (reason == "PostObject") return "ObjectCreated:Post";
  if (reason == "CopyObject") return "ObjectCreated:Copy";
  if (reason == "CompleteMultipartUpload") return "ObjectCreated:CompleteMultipartUpload";
  if (reason.empty()) return "ObjectCreated:*";
  return fmt::format("{}{}", kObjectCreatedPrefix, reason);
}

tl::expected<Notification, std::string> parse_eventbridge(object root) {
  auto source = string_member(root, "source", "source");
  if (!source) return Error(source.error());
  auto detail_type = string_member(root, "detail-type", "detail-type");
  if (!detail_type) return Error(detail_type.error());
  if (*source != "aws.s3") {
    return Error(fmt::format("EventBridge event \"{}\" from source \"{}\" is not an S3 event",
                             *detail_type, *source));
  }
  auto detail = object_member(root, "detail", "detail");
  if (!detail) return Error(detail.error());

  Notification notification;
  if (*detail_type != "Object Created") {
    notification.ignored.push_back(fmt::format("{} s3://{}/{}", *detail_type,
                                               lookup_string(*detail, "bucket", "name"),
                                               lookup_string(*detail, "object", "key")));
    return notification;
  }
  auto bucket = object_member(*detail, "bucket", "detail.bucket");
  if (!bucket) return Error(bucket.error());
  auto object_info = object_member(*detail, "object", "detail.object");
  if (!object_info) return Error(object_info.error());
  auto bucket_name = string_member(*bucket, "name", "detail.bucket.name");
  if (!bucket_name) return Error(bucket_name.error());
  if (bucket_name->empty()) return Error("detail.bucket.name is empty");
  // EventBridge carries the key as it is, not URL-encoded.
  auto key = string_member(*object_info, "key", "detail.object.key");
  if (!key) return Error(key.error());
  if (key->empty()) return Error("detail.object.key is empty");
  auto size = size_member(*object_info, "size", "detail.object.size");
  if (!size) return Error(size.error());
  auto etag = optional_string_member(*object_info, "etag", "detail.object.etag");
  if (!etag) return Error(etag.error());
  auto version_id = optional_string_member(*object_info, "version-id", "detail.object.version-id");
  if (!version_id) return Error(version_id.error());
  auto sequencer = optional_string_member(*object_info, "sequencer", "detail.object.sequencer");
  if (!sequencer) return Error(sequencer.error());
  auto reason = optional_string_member(*detail, "reason", "detail.reason");
  if (!reason) return Error(reason.error());
  auto time = optional_string_member(root, "time", "time");
  if (!time) return Error(time.error());
  auto region = optional_string_member(root, "region", "region");
  if (!region) return Error(region.error());

  notification.objects.push_back(ObjectEvent{.bucket = std::string(*bucket_name),
                                             .key = std::string(*key),
                                             .etag = std::string(base::strip_etag_quotes(*etag)),
                                             .version_id = std::string(*version_id),
                                             .sequencer = std::string(*sequencer),
                                             .event_name = event_name_for_reason(*reason),
                                             .event_time = std::string(*time),
                                             .region = std::string(*region),
                                             .size = *size});
  return notification;
}

tl::expected<Notification, std::string> parse_test_event(object root) {
  auto event = string_member(root, "Event", "Event");
  if (!event) return Error(event.error());
  if (*event != "s3:TestEvent") {
    return Error(fmt::format("Amazon S3 message with unknown Event \"{}\"", *event));
  }
  Notification notification;
  notification.test_event = true;
  return notification;
}

tl::expected<Notification, std::string> parse_document(std::string_view body, bool inside_sns);

tl::expected<Notification, std::string> parse_sns(object root) {
  auto type = string_member(root, "Type", "Type");
  if (!type) return Error(type.error());
  if (*type != "Notification") {
    // A SubscriptionConfirmation needs a person to confirm it: deleting it
    // would lose that, so it goes the way of any other unusable message.
    return Error(fmt::format("SNS message of Type \"{}\" is not a notification", *type));
  }
  auto message = string_member(root, "Message", "Message");
  if (!message) return Error(message.error());
  auto inner = parse_document(*message, true);
  if (!inner) return Error("SNS Message: " + inner.error());
  return inner;
}

tl::expected<Notification, std::string> parse_document(std::string_view body, bool inside_sns) {
  // A parser per document: an SNS Message is parsed while the envelope's
  // elements are still in use.
  simdjson::dom::parser parser;
  const simdjson::padded_string padded(body);
  element root;
  if (const auto error = parser.parse(padded).get(root); error != simdjson::SUCCESS) {
    return Error(fmt::format("not JSON: {}", simdjson::error_message(error)));
  }
  object top;
  if (root.get_object().get(top) != simdjson::SUCCESS) {
    return Error(fmt::format("the message is {}, not a JSON object", type_name(root.type())));
  }
  const auto has = [&](std::string_view name) {
    return top.at_key(name).error() == simdjson::SUCCESS;
  };
  if (has("Records")) return parse_s3_event(top);
  if (has("detail-type")) return parse_eventbridge(top);
  if (has("Event") && has("Service")) return parse_test_event(top);
  if (has("Type") && has("Message")) {
    if (inside_sns) return Error("an SNS envelope inside an SNS envelope");
    return parse_sns(top);
  }
  return Error(fmt::format("not an S3, SNS or EventBridge notification (top-level members: {})",
                           member_names(top)));
}

}  // namespace

tl::expected<std::string, std::string> s3_url_decode_key(std::string_view encoded) {
  std::string decoded;
  decoded.reserve(encoded.size());
  for (std::size_t i = 0; i < encoded.size(); ++i) {
    const char c = encoded[i];
    if (c == '+') {
      decoded.push_back(' ');
    } else if (c == '%') {
      if (i + 2 >= encoded.size()) {
        return Error(fmt::format("truncated percent escape at offset {}", i));
      }
      const int high = base::hex_value(encoded[i + 1]);
      const int low = base::hex_value(encoded[i + 2]);
      if (high < 0 || low < 0) {
        return Error(
            fmt::format("invalid percent escape \"{}\" at offset {}", encoded.substr(i, 3), i));
      }
      decoded.push_back(static_cast<char>(high * 16 + low));
      i += 2;
    } else {
      decoded.push_back(c);
    }
  }
  if (!simdjson::validate_utf8(decoded.data(), decoded.size())) {
    return Error("the decoded key is not valid UTF-8");
  }
  return decoded;
}

tl::expected<Notification, std::string> parse_notification(std::string_view body) {
  return parse_document(body, false);
}

NotificationKind kind_of(const tl::expected<Notification, std::string>& parsed) {
  if (!parsed) return NotificationKind::invalid;
  if (parsed->test_event) return NotificationKind::test_event;
  return parsed->objects.empty() ? NotificationKind::ignored : NotificationKind::objects;
}

namespace {

tl::expected<QueuedMessage, std::string> parse_queued_message(object record, std::size_t index) {
  const std::string at = fmt::format("Records[{}]", index);
  QueuedMessage message;
  auto id = string_member(record, "messageId", at + ".messageId");
  if (!id) return Error(id.error());
  auto handle = string_member(record, "receiptHandle", at + ".receiptHandle");
  if (!handle) return Error(handle.error());
  auto body = string_member(record, "body", at + ".body");
  if (!body) return Error(body.error());
  auto arn = string_member(record, "eventSourceARN", at + ".eventSourceARN");
  if (!arn) return Error(arn.error());
  message.message_id = std::string(*id);
  message.receipt_handle = std::string(*handle);
  message.body = std::string(*body);
  message.queue_arn = std::string(*arn);
  std::string_view count;
  if (record.at_pointer("/attributes/ApproximateReceiveCount").get_string().get(count) ==
      simdjson::SUCCESS) {
    int parsed = 0;
    if (std::from_chars(count.data(), count.data() + count.size(), parsed).ec == std::errc{} &&
        parsed > 0) {
      message.receive_count = parsed;
    }
  }
  return message;
}

}  // namespace

tl::expected<LambdaEvent, std::string> parse_lambda_event(std::string_view payload) {
  simdjson::dom::parser parser;
  const simdjson::padded_string padded(payload);
  element root;
  if (const auto error = parser.parse(padded).get(root); error != simdjson::SUCCESS) {
    return Error(fmt::format("the event is not JSON: {}", simdjson::error_message(error)));
  }
  object top;
  if (root.get_object().get(top) != simdjson::SUCCESS) {
    return Error(fmt::format("the event is {}, not a JSON object", type_name(root.type())));
  }
  simdjson::dom::array records;
  std::string_view source;
  const bool sqs =
      top.at_key("Records").get_array().get(records) == simdjson::SUCCESS && records.size() > 0 &&
      records.at(0).at_key("eventSource").get_string().get(source) == simdjson::SUCCESS &&
      source == "aws:sqs";
  LambdaEvent event;
  if (!sqs) {
    auto notification = parse_document(payload, false);
    if (!notification) return Error(notification.error());
    event.direct = std::move(*notification);
    return event;
  }
  std::size_t index = 0;
  for (const element value : records) {
    object record;
    if (value.get_object().get(record) != simdjson::SUCCESS) {
      return Error(fmt::format("Records[{}] is {}, not an object", index, type_name(value.type())));
    }
    auto message = parse_queued_message(record, index);
    if (!message) return Error(message.error());
    event.messages.push_back(std::move(*message));
    ++index;
  }
  return event;
}

tl::expected<std::string, std::string> queue_name_from_arn(std::string_view arn) {
  // arn:aws:sqs:REGION:ACCOUNT:NAME (the partition may be aws-cn, aws-us-gov)
  std::size_t colons = 0;
  std::size_t at = 0;
  for (; at < arn.size() && colons < 5; ++at) {
    if (arn[at] == ':') ++colons;
  }
  if (!arn.starts_with("arn:") || colons != 5 || at >= arn.size() ||
      arn.find(":sqs:") == std::string_view::npos) {
    return Error(fmt::format("\"{}\" is not an SQS queue ARN", arn));
  }
  return std::string(arn.substr(at));
}

}  // namespace salesflow::pipeline
