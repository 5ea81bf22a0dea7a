// The per-object decision (write, reject, duplicate) and the object's accounting.
#include "core/object_validator.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "validator_test_support.hpp"

namespace salesflow::core {
namespace {

using testing::check_all;

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
  // Every rejected occurrence is rejected again, for an envelope of its own.
  EXPECT_EQ(results[3].disposition, Disposition::reject);
  EXPECT_EQ(testing::codes(results[3].verdict), std::vector{ReasonCode::duplicate_key});
  EXPECT_EQ(results[4].disposition, Disposition::reject);
  EXPECT_EQ(results[5].disposition, Disposition::reject);
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
  ObjectValidator object(validator, testing::test_provenance());
  const std::string texts[] = {R"({"order-info":{}})",
                               R"({"order-info":{"OrderId":""}})",
                               R"({"order-info":{"OrderId":"A"},"contact-info":{"email":"x"}})",
                               "{",
                               "{",
                               R"({"order-info":{"OrderId":"A"},"contact-info":{"email":"x"}})"};
  std::uint64_t index = 0;
  for (const std::string& text : texts) ASSERT_TRUE(object.check(RawRecord{text, index++, 0, 0}));
  const Tally& tally = object.tally();
  EXPECT_EQ(tally.records, 6u);
  EXPECT_EQ(tally.valid, 1u);
  EXPECT_EQ(tally.rejected, 4u);  // the repeated truncated "{" twice
  EXPECT_EQ(tally.duplicates, 1u);
  EXPECT_TRUE(tally.balanced());
  EXPECT_EQ(tally.count(ReasonCode::missing), 2u);
  EXPECT_EQ(tally.count(ReasonCode::empty), 1u);
  EXPECT_EQ(tally.count(ReasonCode::malformed_json), 2u);
}

// A tracking error (here: a budget with no scratch space to spill to) leaves
// the record uncounted, and every later record, a rejected one too, without a
// verdict.
TEST(ObjectValidator, ATrackingErrorStopsEveryLaterVerdict) {
  RecordValidator validator(Rules::defaults());
  ObjectValidator object(validator, testing::test_provenance(),
                         DuplicateTrackingOptions{4096, nullptr});
  std::uint64_t index = 0;
  std::optional<DuplicateTrackingError> error;
  while (!error && index < 1000) {
    const std::string text = R"({"order-info":{"OrderId":"A)" + std::to_string(index) +
                             R"("},"contact-info":{"email":"x"}})";
    auto disposition = object.check(RawRecord{text, index++, 0, 0});
    if (!disposition) error = disposition.error();
  }
  ASSERT_TRUE(error);
  EXPECT_EQ(error->cause.operation, base::FileError::Operation::create);
  const Tally before = object.tally();
  EXPECT_EQ(before.records, index - 1);
  EXPECT_TRUE(before.balanced());
  EXPECT_FALSE(object.check(RawRecord{"{", index++, 0, 0}));
  EXPECT_EQ(object.tally(), before);
}

}  // namespace
}  // namespace salesflow::core
