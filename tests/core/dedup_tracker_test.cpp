// Repeats and key clashes within one object, and the object's accounting.
#include <gtest/gtest.h>

#include "core/dedup.hpp"
#include "validator_test_support.hpp"

namespace salesflow::core {
namespace {

using testing::check_all;

TEST(DuplicateTracker, ClassifiesRepeatsAndKeyClashes) {
  DuplicateTracker tracker;
  EXPECT_EQ(tracker.observe("k1", "A"), DuplicateTracker::Seen::first);
  EXPECT_EQ(tracker.observe("k1", "A"), DuplicateTracker::Seen::same_record);
  EXPECT_EQ(tracker.observe("k1", "B"), DuplicateTracker::Seen::same_key_different_record);
  EXPECT_EQ(tracker.observe("k1", "B"), DuplicateTracker::Seen::same_record);
  EXPECT_EQ(tracker.observe("", "C"), DuplicateTracker::Seen::first);
  EXPECT_EQ(tracker.observe("", "C"), DuplicateTracker::Seen::same_record);
  EXPECT_EQ(tracker.records_seen(), 3u);
  EXPECT_EQ(tracker.keys_claimed(), 1u);
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
  EXPECT_LE(tracker.memory_bytes(), 100000u * 128);
}

TEST(ObjectValidator, RepeatIsCountedOnceAndKeyClashIsRejected) {
  const std::string a = R"({"order-info":{"OrderId":"A"},"contact-info":{"email":"x"}})";
  const std::string a_again = "  " + a + "\r\n";
  const std::string a_changed = R"({"order-info":{"OrderId":"A"},"contact-info":{"email":"y"}})";
  const std::string bad = R"({"order-info":{}})";
  const auto results = check_all(Rules::defaults(), {a, a_again, a_changed, a_changed, bad, bad});
  EXPECT_EQ(results[0].disposition, Disposition::write);
  EXPECT_EQ(results[1].disposition, Disposition::duplicate);
  EXPECT_EQ(results[2].disposition, Disposition::reject);
  EXPECT_EQ(testing::codes(results[2].verdict), std::vector{ReasonCode::duplicate_key});
  EXPECT_TRUE(results[2].verdict.item_json.empty());
  EXPECT_EQ(results[3].disposition, Disposition::duplicate);
  EXPECT_EQ(results[4].disposition, Disposition::reject);
  EXPECT_EQ(results[5].disposition, Disposition::duplicate);
}

TEST(ObjectValidator, RejectedRecordDoesNotClaimItsKey) {
  const auto results =
      check_all(Rules::defaults(),
                {R"({"order-info":{"OrderId":"A","q":1e999},"contact-info":{"email":"x"}})",
                 R"({"order-info":{"OrderId":"A"},"contact-info":{"email":"x"}})"});
  EXPECT_EQ(results[0].disposition, Disposition::reject);
  EXPECT_EQ(results[1].disposition, Disposition::write);
}

TEST(ObjectValidator, IntegerAndStringKeysWithTheSameTextClash) {
  const auto results = check_all(
      Rules::defaults(), {R"({"order-info":{"OrderId":7},"contact-info":{"email":"x"}})",
                          R"({"order-info":{"OrderId":"7"},"contact-info":{"email":"x"}})"});
  EXPECT_EQ(results[1].disposition, Disposition::reject);
}

TEST(ObjectValidator, SortKeyIsPartOfTheIdentity) {
  Rules rules = Rules::defaults();
  rules.sort_key = KeyAttribute{"Line", "/order-info/line", 'N'};
  const auto results =
      check_all(rules, {R"({"order-info":{"OrderId":"A","line":1},"contact-info":{"email":"x"}})",
                        R"({"order-info":{"OrderId":"A","line":2},"contact-info":{"email":"x"}})",
                        R"({"order-info":{"OrderId":"A","line":2},"contact-info":{"email":"z"}})"});
  EXPECT_EQ(results[0].disposition, Disposition::write);
  EXPECT_EQ(results[1].disposition, Disposition::write);
  EXPECT_EQ(results[2].disposition, Disposition::reject);
}

TEST(ObjectValidator, TallyCountsReasonsPerRecord) {
  RecordValidator validator(Rules::defaults());
  ObjectValidator object(validator, testing::test_context());
  const std::string texts[] = {R"({"order-info":{}})", R"({"order-info":{"OrderId":""}})",
                               R"({"order-info":{"OrderId":"A"},"contact-info":{"email":"x"}})",
                               "{", "{"};
  std::uint64_t index = 0;
  for (const std::string& text : texts) object.check(RawRecord{text, index++, 0, 0});
  const Tally& tally = object.tally();
  EXPECT_EQ(tally.records, 5u);
  EXPECT_EQ(tally.valid, 1u);
  EXPECT_EQ(tally.rejected, 3u);
  EXPECT_EQ(tally.duplicates, 1u);
  EXPECT_TRUE(tally.balanced());
  EXPECT_EQ(tally.count(ReasonCode::missing), 2u);
  EXPECT_EQ(tally.count(ReasonCode::empty), 1u);
  EXPECT_EQ(tally.count(ReasonCode::malformed_json), 1u);
}

}  // namespace
}  // namespace salesflow::core
