#include "core/detail/rule_paths.hpp"

namespace salesflow::core {

RulePaths::RulePaths(const Rules& rules) {
  nodes.push_back(PathNode{});
  for (const FieldRule& field : rules.fields) field_nodes.push_back(node_for(field.segments));
  for (const AtLeastOneRule& group : rules.at_least_one) {
    std::vector<std::uint32_t> members;
    for (const std::string& path : group.paths)
      members.push_back(node_for(*split_json_pointer(path)));
    group_nodes.push_back(std::move(members));
  }
  partition_node = node_for(*split_json_pointer(rules.partition_key.path));
  if (rules.sort_key) sort_node = node_for(*split_json_pointer(rules.sort_key->path));
  ancestors.resize(nodes.size());
  for (std::uint32_t node = 0; node < nodes.size(); ++node) {
    for (std::uint32_t n = nodes[node].parent; n != kNoNode && n != 0; n = nodes[n].parent)
      ancestors[node].insert(ancestors[node].begin(), n);
  }
}

std::uint32_t RulePaths::node_for(const std::vector<std::string>& segments) {
  std::uint32_t node = 0;
  for (const std::string& name : segments) {
    std::uint32_t next = kNoNode;
    for (const auto& [child_name, child] : nodes[node].children)
      if (child_name == name) next = child;
    if (next == kNoNode) {
      next = static_cast<std::uint32_t>(nodes.size());
      PathNode child;
      child.path = nodes[node].path;
      append_pointer_segment(child.path, name);
      child.parent = node;
      nodes.push_back(std::move(child));
      nodes[node].children.emplace_back(name, next);
    }
    node = next;
  }
  return node;
}

}  // namespace salesflow::core
