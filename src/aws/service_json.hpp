#pragma once
// JSON helpers shared by the JSON-protocol clients (DynamoDB, SQS): request
// bodies are written with rapidjson, responses read with simdjson.

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <simdjson.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "aws/service.hpp"

namespace salesflow::aws {

using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

inline void write_key(JsonWriter& writer, std::string_view key) {
  writer.Key(key.data(), static_cast<rapidjson::SizeType>(key.size()));
}
inline void write_string(JsonWriter& writer, std::string_view value) {
  writer.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
}
// "key": "value"
inline void write_member(JsonWriter& writer, std::string_view key, std::string_view value) {
  write_key(writer, key);
  write_string(writer, value);
}
// Embeds an already-encoded JSON value (an object text) as is.
inline void write_raw(JsonWriter& writer, std::string_view json, rapidjson::Type type) {
  writer.RawValue(json.data(), json.size(), type);
}

// The text of one JSON object; `members` writes what stands between the braces.
template <class Members>
std::string json_object(Members&& members) {
  rapidjson::StringBuffer buffer;
  JsonWriter writer(buffer);
  writer.StartObject();
  std::forward<Members>(members)(writer);
  writer.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

// The same value with object members sorted by name and no whitespace, so two
// encodings of one item compare equal; nullopt when `json` does not parse.
[[nodiscard]] std::optional<std::string> canonical_json(std::string_view json);

// Minified text of a parsed element.
std::string json_text(simdjson::dom::element element);

// The response body as a JSON object; else InvalidResponse from `runtime`'s
// service for `operation`. The element lives as long as `parser`.
[[nodiscard]] Result<simdjson::dom::element> parse_json_body(simdjson::dom::parser& parser,
                                                             const HttpResponse& response,
                                                             const ServiceRuntime& runtime,
                                                             std::string_view operation);

// What `read` makes of a response's root object.
template <class Read>
using ReadResult = Result<std::invoke_result_t<Read&, simdjson::dom::element>>;

// A call's outcome read by `read`: the call's error, InvalidResponse for a body
// that is no JSON object, else what `read` makes of the root object.
template <class Read>
ReadResult<Read> read_json(Result<HttpResponse> result, const ServiceRuntime& runtime,
                           std::string_view operation, Read& read) {
  if (!result) return tl::unexpected(std::move(result.error()));
  simdjson::dom::parser parser;
  auto root = parse_json_body(parser, *result, runtime, operation);
  if (!root) return tl::unexpected(std::move(root.error()));
  return read(*root);
}

// `call` made on `runtime`, its response read by `read`; `done` runs on the I/O thread.
template <class Read>
void call_json(const std::shared_ptr<ServiceRuntime>& runtime, ServiceCall call, Read read,
               std::function<void(ReadResult<Read>)> done) {
  std::string operation = call.operation;
  runtime->call(std::move(call), [runtime, operation = std::move(operation), read = std::move(read),
                                  done = std::move(done)](Result<HttpResponse> result) mutable {
    done(read_json(std::move(result), *runtime, operation, read));
  });
}

// `call` made on `runtime` on the caller's thread, its response read by `read`.
template <class Read>
ReadResult<Read> call_json_blocking(ServiceRuntime& runtime, ServiceCall call, Read read) {
  std::string operation = call.operation;
  return read_json(runtime.call_blocking(std::move(call)), runtime, operation, read);
}

// A string member, empty when absent or not a string.
std::string string_member(simdjson::dom::element object, std::string_view key);

}  // namespace salesflow::aws
