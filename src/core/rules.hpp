#pragma once
// Completeness rules: which members a record must have, of which JSON types,
// and the key and metadata attributes of the DynamoDB item. Built once per
// process (defaults or a TOML file, see docs/rules.md) and shared read-only.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <tl/expected.hpp>
#include <vector>

namespace re2 {
class RE2;
}

namespace salesflow::core {

// JSON types a field may be required to have; a FieldRule holds a set of them.
enum class JsonType : std::uint8_t {
  string = 1,
  integer = 2,  // a number without fraction and exponent
  number = 4,   // any number (integers included)
  boolean = 8,
  null = 16,
  object = 32,
  array = 64,
};
std::string_view to_string(JsonType type);

struct FieldRule {
  std::string path;                   // JSON pointer, e.g. "/order-info/OrderId"
  std::vector<std::string> segments;  // the pointer's member names, unescaped
  bool required = false;
  std::uint8_t types = 0;  // bit set of JsonType; 0 accepts any type
  bool non_empty = false;  // strings: not empty after trimming whitespace
  std::string pattern;     // RE2 regex a string must match entirely; "" = none
  // `pattern` compiled once at load. RE2 matches in time linear in the value,
  // without recursion, so a long untrusted value cannot exhaust the stack.
  std::shared_ptr<const re2::RE2> regex;
  std::optional<double> min;  // numbers: inclusive bounds
  std::optional<double> max;
  std::vector<std::string> allowed;  // strings: the value must be one of these; empty = any
  std::uint32_t line = 0;            // line in the rules file (0 for built-in rules)
};

// At least one of `paths` must be present and satisfy its own field rule.
struct AtLeastOneRule {
  std::vector<std::string> paths;
  std::uint32_t line = 0;
};

struct KeyAttribute {
  std::string attribute;  // DynamoDB attribute name, e.g. "OrderId"
  std::string path;       // JSON pointer to the record's value
  char type = 'S';        // 'S' (string or integer source, stored as text) or 'N' (number)
};

struct MetadataNames {
  std::string source = "_source";
  std::string etag = "_etag";
  std::string version_id = "_version_id";
  std::string record_index = "_record_index";
  std::string ingested_at = "_ingested_at";
  std::string corrected_at = "_corrected_at";  // only on items replayed from the DLQ
};

struct Rules {
  std::vector<FieldRule> fields;
  std::vector<AtLeastOneRule> at_least_one;
  KeyAttribute partition_key{"OrderId", "/order-info/OrderId", 'S'};
  std::optional<KeyAttribute> sort_key;
  MetadataNames metadata;
  std::size_t max_reasons = 100;  // reasons kept per record; more are summarised in one

  // The built-in completeness rules (docs/rules.md, tests/data/rules/defaults.toml).
  static Rules defaults();
  // Parses a rules file. Errors name the source and line: "rules.toml:12: ...".
  [[nodiscard]] static tl::expected<Rules, std::string> from_toml_string(
      std::string_view text, std::string_view source_name);
};

// Splits a JSON pointer ("/a/b~1c") into unescaped names; nullopt when malformed.
[[nodiscard]] std::optional<std::vector<std::string>> split_json_pointer(std::string_view pointer);
// Appends `name` to a JSON pointer with ~ and / escaped.
void append_pointer_segment(std::string& pointer, std::string_view name);

}  // namespace salesflow::core
