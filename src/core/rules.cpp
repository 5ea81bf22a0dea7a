#include "core/rules.hpp"

#include <fmt/format.h>
#include <re2/re2.h>
#include <toml++/toml.h>

#include <set>

namespace salesflow::core {
namespace {

constexpr std::uint8_t bit(JsonType type) {
  return static_cast<std::uint8_t>(type);
}

FieldRule make_field(std::string path, bool required, std::uint8_t types, bool non_empty) {
  FieldRule rule;
  rule.segments = *split_json_pointer(path);
  rule.path = std::move(path);
  rule.required = required;
  rule.types = types;
  rule.non_empty = non_empty;
  return rule;
}

// RE2 syntax (docs/rules.md): no backreferences, no lookaround. Values are
// UTF-8 (the validator rejects anything else), so RE2 reads them as UTF-8.
tl::expected<std::shared_ptr<const re2::RE2>, std::string> compile_pattern(
    const std::string& pattern) {
  RE2::Options options;
  options.set_log_errors(false);  // the error is returned, not printed
  auto regex = std::make_shared<const re2::RE2>(pattern, options);
  if (!regex->ok())
    return tl::unexpected(
        fmt::format("`pattern` '{}' is not a valid RE2 regular expression (no backreferences or "
                    "lookaround): {}",
                    pattern, regex->error()));
  return regex;
}

std::uint32_t line_of(const toml::node& node) {
  return static_cast<std::uint32_t>(node.source().begin.line);
}

// Parses one rules file into a Rules value; every error names the line.
class RulesParser {
 public:
  explicit RulesParser(std::string_view source_name) : source_name_(source_name) {}

  tl::expected<Rules, std::string> parse(const toml::table& root) {
    std::string mode = "extend";
    if (const auto* node = root.get("defaults")) {
      const auto value = node->value<std::string>();
      if (!value || (*value != "extend" && *value != "replace"))
        return fail(*node, "`defaults` must be \"extend\" or \"replace\"");
      mode = *value;
    }
    Rules rules = mode == "extend" ? Rules::defaults() : Rules{};
    if (mode == "replace") {
      rules.fields.clear();
      rules.at_least_one.clear();
    }
    for (const auto& [name, node] : root) {
      const std::string_view key = name.str();
      if (key == "defaults") continue;
      if (key == "max_reasons") {
        const auto value = node.value<std::int64_t>();
        if (!value || *value < 1 || *value > 10000)
          return fail(node, "`max_reasons` must be an integer from 1 to 10000");
        rules.max_reasons = static_cast<std::size_t>(*value);
      } else if (key == "key") {
        if (auto ok = parse_keys(node, rules); !ok) return tl::unexpected(ok.error());
      } else if (key == "metadata") {
        if (auto ok = parse_metadata(node, rules.metadata); !ok) return tl::unexpected(ok.error());
      } else if (key == "field") {
        const auto* array = node.as_array();
        if (!array) return fail(node, "`field` must be an array of tables ([[field]])");
        for (const auto& element : *array) {
          auto field = parse_field(element);
          if (!field) return tl::unexpected(field.error());
          // A field rule replaces a default rule for the same path.
          std::erase_if(rules.fields, [&](const FieldRule& f) { return f.path == field->path; });
          rules.fields.push_back(std::move(*field));
        }
      } else if (key == "at_least_one") {
        const auto* array = node.as_array();
        if (!array)
          return fail(node, "`at_least_one` must be an array of tables ([[at_least_one]])");
        for (const auto& element : *array) {
          auto group = parse_group(element);
          if (!group) return tl::unexpected(group.error());
          rules.at_least_one.push_back(std::move(*group));
        }
      } else {
        return fail(node, fmt::format("unknown setting `{}`", key));
      }
    }
    if (auto ok = check_names(root, rules); !ok) return tl::unexpected(ok.error());
    return rules;
  }

 private:
  tl::unexpected<std::string> fail(const toml::node& node, std::string_view message) const {
    return tl::unexpected(fmt::format("{}:{}: {}", source_name_, line_of(node), message));
  }

  tl::expected<std::string, std::string> pointer(const toml::node& node, std::string_view what) {
    const auto value = node.value<std::string>();
    if (!value || !split_json_pointer(*value) || value->empty())
      return fail(node,
                  fmt::format("`{}` must be a JSON pointer such as \"/order-info/OrderId\"", what));
    return *value;
  }

  tl::expected<void, std::string> parse_keys(const toml::node& node, Rules& rules) {
    const auto* table = node.as_table();
    if (!table) return fail(node, "`key` must be a table");
    for (const auto& [name, child] : *table) {
      if (name.str() != "partition" && name.str() != "sort")
        return fail(child, fmt::format("unknown key setting `{}` (expected partition or sort)",
                                       name.str()));
      const bool partition = name.str() == "partition";
      KeyAttribute key = partition ? rules.partition_key : KeyAttribute{"", "", 'S'};
      const auto* key_table = child.as_table();
      if (!key_table) return fail(child, fmt::format("`key.{}` must be a table", name.str()));
      for (const auto& [setting, value] : *key_table) {
        if (setting.str() == "attribute") {
          const auto text = value.value<std::string>();
          if (!text || text->empty() || text->size() > 255)
            return fail(value, "`attribute` must be a string of 1 to 255 bytes");
          key.attribute = *text;
        } else if (setting.str() == "path") {
          auto path = pointer(value, "path");
          if (!path) return tl::unexpected(path.error());
          key.path = *path;
        } else if (setting.str() == "type") {
          const auto text = value.value<std::string>();
          if (!text || (*text != "S" && *text != "N"))
            return fail(value, "`type` must be \"S\" or \"N\"");
          key.type = (*text)[0];
        } else {
          return fail(value, fmt::format("unknown key setting `{}`", setting.str()));
        }
      }
      if (key.attribute.empty() || key.path.empty())
        return fail(child, fmt::format("`key.{}` needs `attribute` and `path`", name.str()));
      if (partition)
        rules.partition_key = key;
      else
        rules.sort_key = key;
    }
    return {};
  }

  tl::expected<void, std::string> parse_metadata(const toml::node& node, MetadataNames& names) {
    const auto* table = node.as_table();
    if (!table) return fail(node, "`metadata` must be a table");
    for (const auto& [name, value] : *table) {
      std::string* target = name.str() == "source"         ? &names.source
                            : name.str() == "etag"         ? &names.etag
                            : name.str() == "version_id"   ? &names.version_id
                            : name.str() == "record_index" ? &names.record_index
                            : name.str() == "ingested_at"  ? &names.ingested_at
                            : name.str() == "corrected_at" ? &names.corrected_at
                                                           : nullptr;
      if (!target) return fail(value, fmt::format("unknown metadata attribute `{}`", name.str()));
      const auto text = value.value<std::string>();
      if (!text || text->empty() || text->size() > 255)
        return fail(value, "a metadata attribute name must be a string of 1 to 255 bytes");
      *target = *text;
    }
    return {};
  }

  tl::expected<FieldRule, std::string> parse_field(const toml::node& node) {
    const auto* table = node.as_table();
    if (!table) return fail(node, "each [[field]] must be a table");
    FieldRule rule;
    rule.line = line_of(node);
    for (const auto& [name, value] : *table) {
      const std::string_view key = name.str();
      if (key == "path") {
        auto path = pointer(value, "path");
        if (!path) return tl::unexpected(path.error());
        rule.path = *path;
        rule.segments = *split_json_pointer(*path);
      } else if (key == "required" || key == "non_empty") {
        const auto flag = value.value<bool>();
        if (!flag) return fail(value, fmt::format("`{}` must be true or false", key));
        (key == "required" ? rule.required : rule.non_empty) = *flag;
      } else if (key == "types") {
        const auto* array = value.as_array();
        if (!array || array->empty()) return fail(value, "`types` must be a non-empty array");
        for (const auto& element : *array) {
          const auto type = element.value<std::string>();
          const std::uint8_t mask = !type                ? 0
                                    : *type == "string"  ? bit(JsonType::string)
                                    : *type == "integer" ? bit(JsonType::integer)
                                    : *type == "number"  ? bit(JsonType::number)
                                    : *type == "boolean" ? bit(JsonType::boolean)
                                    : *type == "null"    ? bit(JsonType::null)
                                    : *type == "object"  ? bit(JsonType::object)
                                    : *type == "array"   ? bit(JsonType::array)
                                                         : 0;
          if (mask == 0)
            return fail(element,
                        "unknown type (expected string, integer, number, boolean, null, "
                        "object or array)");
          rule.types |= mask;
        }
      } else if (key == "pattern") {
        const auto text = value.value<std::string>();
        if (!text) return fail(value, "`pattern` must be a string");
        auto regex = compile_pattern(*text);
        if (!regex) return fail(value, regex.error());
        rule.regex = std::move(*regex);
        rule.pattern = *text;
      } else if (key == "min" || key == "max") {
        const auto number = value.value<double>();
        if (!number || !(value.is_integer() || value.is_floating_point()))
          return fail(value, fmt::format("`{}` must be a number", key));
        (key == "min" ? rule.min : rule.max) = *number;
      } else if (key == "enum") {
        const auto* array = value.as_array();
        if (!array || array->empty()) return fail(value, "`enum` must be a non-empty array");
        for (const auto& element : *array) {
          const auto text = element.value<std::string>();
          if (!text || !element.is_string()) return fail(element, "`enum` values must be strings");
          rule.allowed.push_back(*text);
        }
      } else {
        return fail(value, fmt::format("unknown field setting `{}`", key));
      }
    }
    if (rule.path.empty()) return fail(node, "a [[field]] needs a `path`");
    if (rule.min && rule.max && *rule.min > *rule.max) return fail(node, "`min` is above `max`");
    return rule;
  }

  tl::expected<AtLeastOneRule, std::string> parse_group(const toml::node& node) {
    const auto* table = node.as_table();
    if (!table) return fail(node, "each [[at_least_one]] must be a table");
    AtLeastOneRule group;
    group.line = line_of(node);
    for (const auto& [name, value] : *table) {
      if (name.str() != "paths")
        return fail(value, fmt::format("unknown at_least_one setting `{}`", name.str()));
      const auto* array = value.as_array();
      if (!array || array->size() < 2)
        return fail(value, "`paths` must be an array of at least two JSON pointers");
      for (const auto& element : *array) {
        auto path = pointer(element, "paths");
        if (!path) return tl::unexpected(path.error());
        group.paths.push_back(*path);
      }
    }
    if (group.paths.empty()) return fail(node, "an [[at_least_one]] needs `paths`");
    return group;
  }

  // Key and metadata attribute names must be distinct: they share the item's top level.
  tl::expected<void, std::string> check_names(const toml::table& root, const Rules& rules) {
    std::set<std::string> seen;
    const auto& m = rules.metadata;
    for (const std::string* name :
         {&rules.partition_key.attribute, &m.source, &m.etag, &m.version_id, &m.record_index,
          &m.ingested_at, &m.corrected_at}) {
      if (!seen.insert(*name).second)
        return fail(root, fmt::format("attribute name `{}` is used twice (key and metadata "
                                      "attribute names must differ)",
                                      *name));
    }
    if (rules.sort_key && !seen.insert(rules.sort_key->attribute).second)
      return fail(root,
                  fmt::format("sort key attribute `{}` is used twice", rules.sort_key->attribute));
    return {};
  }

  std::string source_name_;
};

}  // namespace

std::string_view to_string(JsonType type) {
  switch (type) {
    case JsonType::string:
      return "string";
    case JsonType::integer:
      return "integer";
    case JsonType::number:
      return "number";
    case JsonType::boolean:
      return "boolean";
    case JsonType::null:
      return "null";
    case JsonType::object:
      return "object";
    case JsonType::array:
      return "array";
  }
  return "unknown";
}

std::optional<std::vector<std::string>> split_json_pointer(std::string_view pointer) {
  std::vector<std::string> segments;
  if (pointer.empty()) return segments;
  if (pointer.front() != '/') return std::nullopt;
  std::size_t pos = 1;
  while (true) {
    const std::size_t end = std::min(pointer.find('/', pos), pointer.size());
    std::string segment;
    for (std::size_t i = pos; i < end; ++i) {
      if (pointer[i] != '~') {
        segment.push_back(pointer[i]);
      } else if (i + 1 < end && (pointer[i + 1] == '0' || pointer[i + 1] == '1')) {
        segment.push_back(pointer[++i] == '0' ? '~' : '/');
      } else {
        return std::nullopt;
      }
    }
    segments.push_back(std::move(segment));
    if (end == pointer.size()) break;
    pos = end + 1;
  }
  return segments;
}

void append_pointer_segment(std::string& pointer, std::string_view name) {
  pointer.push_back('/');
  for (const char c : name) {
    if (c == '~')
      pointer += "~0";
    else if (c == '/')
      pointer += "~1";
    else
      pointer.push_back(c);
  }
}

Rules Rules::defaults() {
  Rules rules;
  const std::uint8_t text = bit(JsonType::string);
  rules.fields.push_back(make_field("/order-info", true, bit(JsonType::object), false));
  rules.fields.push_back(
      make_field("/order-info/OrderId", true, text | bit(JsonType::integer), true));
  rules.fields.push_back(make_field("/contact-info", true, bit(JsonType::object), false));
  rules.fields.push_back(make_field("/contact-info/email", false, text, true));
  rules.fields.push_back(make_field("/contact-info/phone", false, text, true));
  rules.at_least_one.push_back({{"/contact-info/email", "/contact-info/phone"}, 0});
  return rules;
}

tl::expected<Rules, std::string> Rules::from_toml_string(std::string_view text,
                                                         std::string_view source_name) {
  toml::table root;
  try {
    root = toml::parse(text, source_name);
  } catch (const toml::parse_error& error) {
    return tl::unexpected(fmt::format("{}:{}:{}: {}", source_name, error.source().begin.line,
                                      error.source().begin.column, error.description()));
  }
  return RulesParser(source_name).parse(root);
}

}  // namespace salesflow::core
