#pragma once
// Helpers shared by the validation tests: run records through an
// ObjectValidator and check the accounting invariant on every call.

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/object_validator.hpp"

namespace salesflow::core::testing {

inline Provenance test_provenance() {
  return Provenance{"sales-bucket", "incoming/2024/orders.jsonl",
                    "\"9b2cf535f27731c974343645a3985328\"", "", "2024-05-01T12:00:00Z", ""};
}

struct Checked {
  Disposition disposition;
  Verdict verdict;  // its item_json views `item`, which outlives the validator
  std::shared_ptr<const std::string> item;
};

// Runs `records` through one ObjectValidator (one object) and checks the
// tally invariant after each.
inline std::vector<Checked> check_all(const Rules& rules, const std::vector<std::string>& records) {
  RecordValidator validator(rules);
  ObjectValidator object(validator, test_provenance());
  std::vector<Checked> results;
  std::uint64_t index = 0;
  for (const std::string& text : records) {
    const RawRecord record{text, index, 0, index + 1};
    ++index;
    const Disposition disposition = object.check(record).value();
    Checked checked{disposition, object.verdict(),
                    std::make_shared<const std::string>(object.verdict().item_json)};
    checked.verdict.item_json = *checked.item;
    results.push_back(std::move(checked));
    EXPECT_TRUE(object.tally().balanced());
    EXPECT_EQ(object.tally().records, index);
  }
  return results;
}

inline Checked check_one(const Rules& rules, const std::string& text) {
  return check_all(rules, {text}).front();
}

inline Checked check_one(const std::string& text) {
  return check_one(Rules::defaults(), text);
}

inline std::vector<ReasonCode> codes(const Verdict& verdict) {
  std::vector<ReasonCode> result;
  for (const Reason& reason : verdict.reasons) result.push_back(reason.code);
  return result;
}

inline bool has_reason(const Verdict& verdict, ReasonCode code, std::string_view path) {
  for (const Reason& reason : verdict.reasons)
    if (reason.code == code && reason.path == path) return true;
  return false;
}

inline std::string reasons_text(const Verdict& verdict) {
  std::string text;
  for (const Reason& reason : verdict.reasons)
    text += std::string(to_string(reason.code)) + " " + reason.path + ": " + reason.message + "\n";
  return text;
}

}  // namespace salesflow::core::testing
