// The tree of rule paths the record walk follows.
#include "core/detail/rule_paths.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace salesflow::core {
namespace {

TEST(RulePaths, SharedPrefixesShareNodesAndAncestorsAreOutermostFirst) {
  Rules rules = Rules::defaults();
  rules.sort_key = KeyAttribute{"Line", "/order-info/line", 'N'};
  const RulePaths paths(rules);
  const std::uint32_t order = paths.child_of(0, "order-info");
  ASSERT_NE(order, kNoNode);
  EXPECT_EQ(paths.nodes[order].path, "/order-info");
  EXPECT_EQ(paths.child_of(order, "OrderId"), paths.partition_node);
  EXPECT_EQ(paths.child_of(order, "line"), paths.sort_node);
  EXPECT_EQ(paths.nodes[paths.sort_node].path, "/order-info/line");
  EXPECT_EQ(paths.ancestors[paths.partition_node], std::vector<std::uint32_t>{order});
  EXPECT_TRUE(paths.ancestors[order].empty());  // the record itself is not listed
  EXPECT_EQ(paths.field_nodes.size(), rules.fields.size());
  EXPECT_EQ(paths.group_nodes.size(), rules.at_least_one.size());
}

TEST(RulePaths, NamesOffThePathsHaveNoNode) {
  const RulePaths paths(Rules::defaults());
  EXPECT_EQ(paths.child_of(0, "not-a-rule-path"), kNoNode);
  EXPECT_EQ(paths.child_of(0, ""), kNoNode);
  EXPECT_EQ(paths.child_of(kNoNode, "order-info"), kNoNode);
}

TEST(RulePaths, EscapedNamesAreUnescapedInTheTree) {
  Rules rules = Rules::defaults();
  FieldRule rule;
  rule.path = "/a~1b/c~0d";
  rule.segments = {"a/b", "c~d"};
  rules.fields.push_back(rule);
  const RulePaths paths(rules);
  const std::uint32_t node = paths.child_of(paths.child_of(0, "a/b"), "c~d");
  ASSERT_NE(node, kNoNode);
  EXPECT_EQ(node, paths.field_nodes.back());
  EXPECT_EQ(paths.nodes[node].path, "/a~1b/c~0d");
}

}  // namespace
}  // namespace salesflow::core
