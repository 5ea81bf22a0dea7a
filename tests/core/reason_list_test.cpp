// A record's reasons up to the limit, and the one reason summing up the rest.
#include "core/detail/reason_list.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace salesflow::core {
namespace {

TEST(ReasonList, KeepsReasonsUpToTheLimitAndSumsUpTheRest) {
  std::vector<Reason> reasons;
  ReasonList list(reasons, 2);
  list.add(ReasonCode::missing, "/a", "one");
  list.add(ReasonCode::empty, "/b", "two");
  list.add(ReasonCode::wrong_type, "/c", "three");
  list.add(ReasonCode::too_large, "/d", "four");
  list.close();
  ASSERT_EQ(reasons.size(), 3u);
  EXPECT_EQ(reasons[0], (Reason{ReasonCode::missing, "/a", "one"}));
  EXPECT_EQ(reasons[1], (Reason{ReasonCode::empty, "/b", "two"}));
  // The summary carries the code of the last reason left out.
  EXPECT_EQ(reasons[2], (Reason{ReasonCode::too_large, "", "2 more reasons not listed"}));
}

TEST(ReasonList, CloseAddsNothingWhenNoneWereLeftOut) {
  std::vector<Reason> reasons;
  ReasonList list(reasons, 1);
  list.close();
  EXPECT_TRUE(list.empty());
  list.add(ReasonCode::missing, "/a", "one");
  list.close();
  EXPECT_EQ(reasons.size(), 1u);
  EXPECT_FALSE(list.empty());
}

TEST(ReasonList, ClearForgetsTheReasonsAndTheCount) {
  std::vector<Reason> reasons;
  ReasonList list(reasons, 1);
  list.add(ReasonCode::missing, "/a", "one");
  list.add(ReasonCode::empty, "/b", "two");
  list.clear();
  EXPECT_TRUE(reasons.empty());
  list.add(ReasonCode::wrong_type, "/c", "three");
  list.close();
  ASSERT_EQ(reasons.size(), 1u);
  EXPECT_EQ(reasons[0].code, ReasonCode::wrong_type);
}

}  // namespace
}  // namespace salesflow::core
