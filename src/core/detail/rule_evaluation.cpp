#include "core/detail/rule_evaluation.hpp"

#include <fmt/format.h>
#include <re2/re2.h>

#include <algorithm>
#include <charconv>
#include <iterator>

namespace salesflow::core {
namespace {

std::string_view trim_ascii_space(std::string_view text) {
  const auto is_space = [](char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
  };
  while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
  return text;
}

std::string describe_types(std::uint8_t types) {
  std::string text;
  for (const JsonType type :
       {JsonType::string, JsonType::integer, JsonType::number, JsonType::boolean, JsonType::null,
        JsonType::object, JsonType::array}) {
    if ((types & type_bit(type)) == 0) continue;
    if (!text.empty()) text += " or ";
    text += to_string(type);
  }
  return text;
}

bool type_matches(std::uint8_t types, const Observation& seen) {
  if (types == 0) return true;
  if ((types & type_bit(seen.type)) != 0) return true;
  return seen.type == JsonType::number && seen.integer &&
         (types & type_bit(JsonType::integer)) != 0;
}

// The outermost ancestor of `node` that is absent or not an object (it
// explains why the node's member cannot be there), or kNoNode.
std::uint32_t ancestor_problem(const RulePaths& paths, std::span<const Observation> observations,
                               std::uint32_t node) {
  for (const std::uint32_t ancestor : paths.ancestors[node]) {
    const Observation& seen = observations[ancestor];
    if (!seen.present || seen.type != JsonType::object) return ancestor;
  }
  return kNoNode;
}

// Problems of one field rule; none when it is satisfied.
void evaluate_field(const FieldRule& rule, const RulePaths& paths, std::uint32_t node,
                    std::span<const Observation> observations, std::vector<Reason>& found) {
  if (const std::uint32_t ancestor = ancestor_problem(paths, observations, node);
      ancestor != kNoNode) {
    // An optional member that is absent is fine (and, being absent, does not
    // satisfy a group: it is not present).
    if (!rule.required) return;
    const Observation& seen = observations[ancestor];
    if (!seen.present)
      found.push_back(
          Reason{ReasonCode::missing, paths.nodes[ancestor].path, "required member is missing"});
    else
      found.push_back(Reason{ReasonCode::wrong_type, paths.nodes[ancestor].path,
                             fmt::format("is {}, expected an object", describe(seen.type, false))});
    return;
  }
  const Observation& seen = observations[node];
  if (!seen.present) {
    if (rule.required)
      found.push_back(Reason{ReasonCode::missing, rule.path, "required member is missing"});
    return;
  }
  if (!type_matches(rule.types, seen)) {
    found.push_back(Reason{ReasonCode::wrong_type, rule.path,
                           fmt::format("is {}, expected {}", describe(seen.type, seen.integer),
                                       describe_types(rule.types))});
    return;
  }
  if (seen.type == JsonType::string) {
    if (rule.non_empty && trim_ascii_space(seen.text).empty()) {
      found.push_back(
          Reason{ReasonCode::empty, rule.path,
                 seen.text.empty() ? "is an empty string" : "contains only whitespace"});
      return;
    }
    if (rule.regex &&
        !RE2::FullMatch(re2::StringPiece(seen.text.data(), seen.text.size()), *rule.regex))
      found.push_back(Reason{ReasonCode::invalid_format, rule.path,
                             fmt::format("does not match the pattern {}", rule.pattern)});
    if (!rule.allowed.empty() &&
        std::find(rule.allowed.begin(), rule.allowed.end(), seen.text) == rule.allowed.end())
      found.push_back(Reason{
          ReasonCode::invalid_format, rule.path,
          fmt::format("is not one of the allowed values ({})", fmt::join(rule.allowed, ", "))});
  } else if (seen.type == JsonType::number && (rule.min || rule.max)) {
    double number = 0;
    std::from_chars(seen.text.data(), seen.text.data() + seen.text.size(), number);
    if (rule.min && number < *rule.min)
      found.push_back(Reason{ReasonCode::invalid_format, rule.path,
                             fmt::format("{} is below the minimum {}", seen.text, *rule.min)});
    if (rule.max && number > *rule.max)
      found.push_back(Reason{ReasonCode::invalid_format, rule.path,
                             fmt::format("{} is above the maximum {}", seen.text, *rule.max)});
  }
}

}  // namespace

Rules with_key_rules(Rules rules) {
  const auto enforce = [&rules](const KeyAttribute& key) {
    const std::uint8_t allowed = key.type == 'N'
                                     ? type_bit(JsonType::number) | type_bit(JsonType::integer)
                                     : type_bit(JsonType::string) | type_bit(JsonType::integer);
    auto it = std::find_if(rules.fields.begin(), rules.fields.end(),
                           [&](const FieldRule& f) { return f.path == key.path; });
    if (it == rules.fields.end()) {
      FieldRule rule;
      rule.path = key.path;
      rule.segments = *split_json_pointer(key.path);
      rules.fields.push_back(std::move(rule));
      it = std::prev(rules.fields.end());
    }
    it->required = true;
    it->non_empty = true;
    it->types = it->types == 0 ? allowed : static_cast<std::uint8_t>(it->types & allowed);
    if (it->types == 0) it->types = allowed;
  };
  enforce(rules.partition_key);
  if (rules.sort_key) enforce(*rules.sort_key);
  return rules;
}

std::string_view describe(JsonType type, bool integer) {
  if (type == JsonType::number) return integer ? "an integer" : "a number";
  switch (type) {
    case JsonType::string:
      return "a string";
    case JsonType::boolean:
      return "a boolean";
    case JsonType::null:
      return "null";
    case JsonType::object:
      return "an object";
    case JsonType::array:
      return "an array";
    default:
      return "a value";
  }
}

void RuleEvaluation::evaluate(const Rules& rules, const RulePaths& paths,
                              std::span<const Observation> observations, ReasonList& reasons) {
  const std::size_t field_count = rules.fields.size();
  field_reasons_.resize(field_count);
  for (std::size_t i = 0; i < field_count; ++i) {
    field_reasons_[i].clear();
    evaluate_field(rules.fields[i], paths, paths.field_nodes[i], observations, field_reasons_[i]);
  }
  // A group member is ok when present and its own rules (if any) hold.
  const auto member_ok = [&](std::uint32_t node) {
    if (!observations[node].present) return false;
    for (std::size_t i = 0; i < field_count; ++i)
      if (paths.field_nodes[i] == node && !field_reasons_[i].empty()) return false;
    return true;
  };
  excused_.assign(field_count, false);
  for (std::size_t g = 0; g < rules.at_least_one.size(); ++g) {
    const std::vector<std::uint32_t>& members = paths.group_nodes[g];
    if (std::any_of(members.begin(), members.end(), member_ok)) {
      for (std::size_t i = 0; i < field_count; ++i)
        if (std::find(members.begin(), members.end(), paths.field_nodes[i]) != members.end())
          excused_[i] = true;
      continue;
    }
    // An absent or non-object parent is reported by the parent's rule.
    if (ancestor_problem(paths, observations, members.front()) != kNoNode) continue;
    const std::string& parent = paths.nodes[paths.nodes[members.front()].parent].path;
    reasons.add(ReasonCode::missing, parent.empty() ? "/" : parent,
                fmt::format("needs at least one of {} present and valid",
                            fmt::join(rules.at_least_one[g].paths, ", ")));
  }
  reported_.clear();
  for (std::size_t i = 0; i < field_count; ++i) {
    if (excused_[i]) continue;
    for (Reason& reason : field_reasons_[i]) {
      std::string key = fmt::format("{}|{}", static_cast<int>(reason.code), reason.path);
      if (std::find(reported_.begin(), reported_.end(), key) != reported_.end()) continue;
      reported_.push_back(std::move(key));
      reasons.add(reason.code, std::move(reason.path), std::move(reason.message));
    }
  }
}

}  // namespace salesflow::core
