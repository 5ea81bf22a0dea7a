#include "aws/service_json.hpp"

#include <algorithm>
#include <utility>
#include <vector>

namespace salesflow::aws {

namespace {

void write_canonical(JsonWriter& writer, simdjson::dom::element element) {
  switch (element.type()) {
    case simdjson::dom::element_type::OBJECT: {
      std::vector<std::pair<std::string_view, simdjson::dom::element>> members;
      const simdjson::dom::object object = element.get_object().value_unsafe();
      for (const auto field : object) {
        members.emplace_back(field.key, field.value);
      }
      std::sort(members.begin(), members.end(),
                [](const auto& a, const auto& b) { return a.first < b.first; });
      writer.StartObject();
      for (const auto& [key, value] : members) {
        write_key(writer, key);
        write_canonical(writer, value);
      }
      writer.EndObject();
      break;
    }
    case simdjson::dom::element_type::ARRAY: {
      const simdjson::dom::array array = element.get_array().value_unsafe();
      writer.StartArray();
      for (const auto value : array) write_canonical(writer, value);
      writer.EndArray();
      break;
    }
    case simdjson::dom::element_type::STRING:
      write_string(writer, element.get_string().value_unsafe());
      break;
    case simdjson::dom::element_type::BOOL:
      writer.Bool(element.get_bool().value_unsafe());
      break;
    case simdjson::dom::element_type::NULL_VALUE:
      writer.Null();
      break;
    default: {  // numbers: keep simdjson's rendering
      const std::string text = simdjson::to_string(element);
      writer.RawValue(text.data(), text.size(), rapidjson::kNumberType);
      break;
    }
  }
}

}  // namespace

std::optional<std::string> canonical_json(std::string_view json) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(json.data(), json.size()).get(root) != simdjson::SUCCESS) return std::nullopt;
  rapidjson::StringBuffer buffer;
  JsonWriter writer(buffer);
  write_canonical(writer, root);
  return std::string(buffer.GetString(), buffer.GetSize());
}

std::string json_text(simdjson::dom::element element) {
  return simdjson::minify(element);
}

Result<simdjson::dom::element> parse_json_body(simdjson::dom::parser& parser,
                                               const HttpResponse& response,
                                               const ServiceRuntime& runtime,
                                               std::string_view operation) {
  simdjson::dom::element root;
  if (parser.parse(response.body).get(root) != simdjson::SUCCESS || !root.is_object()) {
    return tl::unexpected(
        runtime.invalid_response(response, operation, "response body is not a JSON object"));
  }
  return root;
}

std::string string_member(simdjson::dom::element object, std::string_view key) {
  std::string_view value;
  if (object[key].get(value) != simdjson::SUCCESS) return {};
  return std::string(value);
}

}  // namespace salesflow::aws
