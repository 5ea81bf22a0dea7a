#include <gtest/gtest.h>

#include <cstddef>
#include <vector>

#include "aws/service.hpp"

namespace salesflow::aws {
namespace {

using Batches = std::vector<std::vector<std::size_t>>;

TEST(PackBatches, NoEntriesNoBatches) {
  EXPECT_TRUE(pack_batches({}, 10, 100).empty());
}

TEST(PackBatches, SplitsByCountKeepingOrder) {
  EXPECT_EQ(pack_batches({1, 1, 1, 1, 1}, 2, 100), (Batches{{0, 1}, {2, 3}, {4}}));
}

TEST(PackBatches, SplitsBySizeWithTheOverheadOfEachBatch) {
  // 10 overhead + 40 + 40 = 90 fits in 100; a third 40 does not.
  EXPECT_EQ(pack_batches({40, 40, 40, 10}, 10, 100, 10), (Batches{{0, 1}, {2, 3}}));
  EXPECT_EQ(pack_batches({40, 40, 40}, 10, 89, 10), (Batches{{0}, {1}, {2}}));
}

TEST(PackBatches, AnOversizedEntryGoesAlone) {
  EXPECT_EQ(pack_batches({5, 500, 5, 5}, 10, 100), (Batches{{0}, {1}, {2, 3}}));
  EXPECT_EQ(pack_batches({500}, 10, 100), (Batches{{0}}));
}

}  // namespace
}  // namespace salesflow::aws
