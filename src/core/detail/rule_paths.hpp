#pragma once
// The rule paths as a tree of member names, which the record walk follows
// member by member, and what the walk saw at each of them. Inline: the walk
// looks up a child for every member of every record.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/rules.hpp"

namespace salesflow::core {

inline constexpr std::uint32_t kNoNode = 0xFFFFFFFF;

// A JsonType as a bit of FieldRule::types.
constexpr std::uint8_t type_bit(JsonType type) {
  return static_cast<std::uint8_t>(type);
}

// Names compared per member of the records: most differ in length or in
// their first byte, which settles it without a library call.
inline bool same_name(std::string_view a, std::string_view b) {
  return a.size() == b.size() && (a.empty() || (a.front() == b.front() && a == b));
}

// What the walk saw at a rule path of one record.
struct Observation {
  bool present = false;
  JsonType type = JsonType::null;
  bool integer = false;
  // Strings: the unescaped value; numbers: the exact token.
  std::string_view text;
  // `text` is in the padded record buffer as it stands: a string's raw
  // content between its quotes (no escapes), or a number's token.
  bool raw = false;
};

struct PathNode {
  std::vector<std::pair<std::string, std::uint32_t>> children;
  std::string path;  // as a JSON pointer
  std::uint32_t parent = kNoNode;
};

// Node 0 is the record itself; every rule's path (fields, at-least-one groups,
// key attributes) has its node. Fixed once built: one per RecordValidator.
struct RulePaths {
  explicit RulePaths(const Rules& rules);

  std::uint32_t child_of(std::uint32_t node, std::string_view name) const {
    if (node == kNoNode) return kNoNode;
    for (const auto& [child_name, child] : nodes[node].children)
      if (same_name(child_name, name)) return child;
    return kNoNode;
  }

  std::vector<PathNode> nodes;
  std::vector<std::uint32_t> field_nodes;               // per Rules::fields
  std::vector<std::vector<std::uint32_t>> group_nodes;  // per Rules::at_least_one
  std::uint32_t partition_node = kNoNode;
  std::uint32_t sort_node = kNoNode;
  std::vector<std::vector<std::uint32_t>> ancestors;  // per node, outermost first, root excluded

 private:
  std::uint32_t node_for(const std::vector<std::string>& segments);
};

}  // namespace salesflow::core
