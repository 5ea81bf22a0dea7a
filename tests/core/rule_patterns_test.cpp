// Rule patterns: RE2 syntax, whole-value matching, load-time errors, and
// values long enough to overflow a backtracking matcher's stack.
#include <gtest/gtest.h>

#include <string>

#include "validator_test_support.hpp"

namespace salesflow::core {
namespace {

using testing::check_one;
using testing::has_reason;
using testing::reasons_text;

Rules with_pattern(const std::string& pattern) {
  auto rules = Rules::from_toml_string(
      "[[field]]\npath = \"/order-info/note\"\ntypes = [\"string\"]\npattern = '" + pattern + "'\n",
      "patterns.toml");
  EXPECT_TRUE(rules.has_value()) << rules.error();
  return rules ? *rules : Rules::defaults();
}

std::string record_with_note(const std::string& note) {
  return R"({"order-info":{"OrderId":"A","note":")" + note + R"("},"contact-info":{"email":"x"}})";
}

bool note_rejected(const Rules& rules, const std::string& note) {
  return has_reason(check_one(rules, record_with_note(note)).verdict, ReasonCode::invalid_format,
                    "/order-info/note");
}

std::string load_error(const std::string& pattern) {
  auto rules = Rules::from_toml_string("[[field]]\npath = \"/a\"\n\npattern = '" + pattern + "'\n",
                                       "patterns.toml");
  EXPECT_FALSE(rules.has_value()) << pattern;
  return rules ? std::string() : rules.error();
}

TEST(RulePatterns, MustMatchTheWholeValue) {
  const Rules rules = with_pattern("[A-Z]{3}-[0-9]+");
  EXPECT_FALSE(note_rejected(rules, "ABC-42"));
  EXPECT_TRUE(note_rejected(rules, "xABC-42"));
  EXPECT_TRUE(note_rejected(rules, "ABC-42x"));
  EXPECT_TRUE(note_rejected(rules, ""));
  const auto rejected = check_one(rules, record_with_note("ABC"));
  ASSERT_EQ(rejected.verdict.reasons.size(), 1u) << reasons_text(rejected.verdict);
  EXPECT_EQ(rejected.verdict.reasons[0].message, "does not match the pattern [A-Z]{3}-[0-9]+");
}

TEST(RulePatterns, MatchTheUnescapedValueCharacterByCharacter) {
  // Values are UTF-8: `.` is one character, not one byte.
  const Rules rules = with_pattern("M.ller");
  EXPECT_FALSE(note_rejected(rules, "Müller"));
  EXPECT_FALSE(note_rejected(rules, R"(M\u00fcller)"));
  EXPECT_TRUE(note_rejected(rules, "Mueller"));
}

TEST(RulePatterns, PathologicalPatternsRunInLinearTimeOnAMegabyteValue) {
  const std::size_t size = std::size_t{1} << 20;
  const std::string as(size, 'a');
  const std::string xs(size, 'x');
  // A backtracking matcher recurses once per character on these (and tries
  // exponentially many splits): libstdc++'s std::regex overflows the stack.
  EXPECT_TRUE(note_rejected(with_pattern("(a|aa)*b"), as));
  EXPECT_TRUE(note_rejected(with_pattern("(x+x+)+y"), xs));
  EXPECT_FALSE(note_rejected(with_pattern("(a|aa)*"), as));
  EXPECT_FALSE(note_rejected(with_pattern("(x+x+)+"), xs));
}

TEST(RulePatterns, BackreferencesAndLookaroundAreLoadErrorsNamingThePattern) {
  struct Case {
    const char* pattern;
    const char* re2_message;
  };
  for (const Case& c : std::initializer_list<Case>{
           {R"((a)\1)", R"(invalid escape sequence: \1)"},
           {"(?=a)b", "invalid perl operator: (?="},
           {"(?<!a)b", "invalid perl operator: (?<"},
           {"(", "missing ): ("},
       }) {
    const std::string error = load_error(c.pattern);
    EXPECT_NE(error.find("patterns.toml:4:"), std::string::npos) << error;
    EXPECT_NE(error.find(std::string("'") + c.pattern + "'"), std::string::npos) << error;
    EXPECT_NE(error.find("RE2"), std::string::npos) << error;
    EXPECT_NE(error.find(c.re2_message), std::string::npos) << error;
  }
}

}  // namespace
}  // namespace salesflow::core
