#pragma once
// JSON helpers shared by the JSON-protocol clients (DynamoDB, SQS): request
// bodies are written with rapidjson, responses read with simdjson.

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <simdjson.h>

#include <optional>
#include <string>
#include <string_view>

#include "aws/service.hpp"

namespace salesflow::aws {

using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

inline void write_key(JsonWriter& writer, std::string_view key) {
  writer.Key(key.data(), static_cast<rapidjson::SizeType>(key.size()));
}
inline void write_string(JsonWriter& writer, std::string_view value) {
  writer.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
}
// Embeds an already-encoded JSON value (an object text) as is.
inline void write_raw(JsonWriter& writer, std::string_view json, rapidjson::Type type) {
  writer.RawValue(json.data(), json.size(), type);
}

// The same value with object members sorted by name and no whitespace, so two
// encodings of one item compare equal; nullopt when `json` does not parse.
std::optional<std::string> canonical_json(std::string_view json);

// Minified text of a parsed element.
std::string json_text(simdjson::dom::element element);

// The response body as a JSON object; else InvalidResponse from `runtime`'s
// service for `operation`. The element lives as long as `parser`.
Result<simdjson::dom::element> parse_json_body(simdjson::dom::parser& parser,
                                               const HttpResponse& response,
                                               const ServiceRuntime& runtime,
                                               std::string_view operation);

// A string member, empty when absent or not a string.
std::string string_member(simdjson::dom::element object, std::string_view key);

}  // namespace salesflow::aws
