// Repeats and key clashes: the duplicate tracker's tables.
#include "core/detail/duplicate_tracker.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

namespace salesflow::core {
namespace {

TEST(DuplicateTracker, ClassifiesRepeatsAndKeyClashes) {
  DuplicateTracker tracker;
  EXPECT_EQ(tracker.observe("k1", "A"), DuplicateTracker::Seen::first);
  EXPECT_EQ(tracker.observe("k1", "A"), DuplicateTracker::Seen::same_record);
  EXPECT_EQ(tracker.observe("k1", "B"), DuplicateTracker::Seen::same_key_different_record);
  // A clash is not remembered: its repeat clashes again (a record of its own in the DLQ).
  EXPECT_EQ(tracker.observe("k1", "B"), DuplicateTracker::Seen::same_key_different_record);
  EXPECT_EQ(tracker.observe("k2", "C"), DuplicateTracker::Seen::first);
  EXPECT_EQ(tracker.observe("k2", "C"), DuplicateTracker::Seen::same_record);
  EXPECT_EQ(tracker.records_seen(), 2u);
}

TEST(DuplicateTracker, ManyRecordsGrowTheTables) {
  DuplicateTracker tracker;
  for (int i = 0; i < 100000; ++i) {
    const std::string text = "record " + std::to_string(i);
    ASSERT_EQ(tracker.observe("key" + std::to_string(i), text), DuplicateTracker::Seen::first);
  }
  for (int i = 0; i < 100000; i += 997)
    ASSERT_EQ(tracker.observe("key" + std::to_string(i), "record " + std::to_string(i)),
              DuplicateTracker::Seen::same_record);
  EXPECT_EQ(tracker.records_seen(), 100000u);
  EXPECT_LE(tracker.memory_bytes(), 100000u * 86);  // one table, 32-byte entries, <= 3/4 full
}

// Keys up to 15 bytes are held exactly, longer ones digested: keys that
// differ in one byte, in length only (a trailing NUL), or across the 15/16
// byte boundary stay apart, and a repeat of each is found.
TEST(DuplicateTracker, ShortKeysAreExactAndLongKeysDigested) {
  DuplicateTracker tracker;
  const std::vector<std::string> keys = {"",
                                         std::string("A"),
                                         std::string("A\0", 2),
                                         "ORD-0000000001",
                                         "ORD-0000000002",
                                         "123456789012345",
                                         "1234567890123456",
                                         "12345678901234567",
                                         std::string(2048, 'k')};
  for (std::size_t i = 1; i < keys.size(); ++i)
    ASSERT_EQ(tracker.observe(keys[i], "record " + std::to_string(i)),
              DuplicateTracker::Seen::first)
        << i;
  for (std::size_t i = 1; i < keys.size(); ++i)
    EXPECT_EQ(tracker.observe(keys[i], "other " + std::to_string(i)),
              DuplicateTracker::Seen::same_key_different_record)
        << i;
  EXPECT_EQ(tracker.records_seen(), keys.size() - 1);
}

// Order ids share long prefixes; all of them must still be told apart (and
// the table must not degrade: 200,000 keys finish in well under a second).
TEST(DuplicateTracker, KeysWithACommonPrefix) {
  DuplicateTracker tracker;
  for (int i = 0; i < 200000; ++i) {
    const std::string key = fmt::format("ORD-{:010}", i);
    ASSERT_EQ(tracker.observe(key, key + " record"), DuplicateTracker::Seen::first) << key;
  }
  EXPECT_EQ(tracker.observe("ORD-0000000007", "changed"),
            DuplicateTracker::Seen::same_key_different_record);
  EXPECT_EQ(tracker.observe("ORD-0000000007", "ORD-0000000007 record"),
            DuplicateTracker::Seen::same_record);
}

// Each tracker draws its own key: digests differ between trackers, the
// answers do not.
TEST(DuplicateTracker, TwoTrackersGiveTheSameAnswers) {
  DuplicateTracker first;
  DuplicateTracker second;
  for (DuplicateTracker* tracker : {&first, &second}) {
    EXPECT_EQ(tracker->observe("k", "text"), DuplicateTracker::Seen::first);
    EXPECT_EQ(tracker->observe("k", "text"), DuplicateTracker::Seen::same_record);
    EXPECT_EQ(tracker->observe("k2", ""), DuplicateTracker::Seen::first);
    EXPECT_EQ(tracker->observe("k2", ""), DuplicateTracker::Seen::same_record);
  }
}

}  // namespace
}  // namespace salesflow::core
