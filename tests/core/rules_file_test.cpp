// Rules files: every setting, and errors that name the line.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "validator_test_support.hpp"

namespace salesflow::core {
namespace {

using testing::check_one;
using testing::codes;
using testing::has_reason;
using testing::reasons_text;

Rules load(std::string_view text) {
  auto rules = Rules::from_toml_string(text, "test.toml");
  EXPECT_TRUE(rules.has_value()) << rules.error();
  return rules ? *rules : Rules::defaults();
}

// Core reads no files: the app reads a rules file and parses its text.
tl::expected<Rules, std::string> load_file(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  std::ostringstream text;
  text << file.rdbuf();
  return Rules::from_toml_string(text.str(), path);
}

std::string error_of(std::string_view text) {
  auto rules = Rules::from_toml_string(text, "test.toml");
  EXPECT_FALSE(rules.has_value());
  return rules ? std::string() : rules.error();
}

TEST(RulesFile, DefaultsFileBehavesLikeBuiltInDefaults) {
  auto file = load_file(SALESFLOW_TEST_DATA_DIR "/rules/defaults.toml");
  ASSERT_TRUE(file.has_value()) << file.error();
  for (const char* text :
       {R"({"order-info":{"OrderId":"A"},"contact-info":{"email":"x"}})",
        R"({"order-info":{"OrderId":7},"contact-info":{"phone":"1"}})",
        R"({"order-info":{"OrderId":7.5},"contact-info":{"phone":""}})", R"({"a":1})",
        R"({"order-info":{"OrderId":" "},"contact-info":{}})", "[1]"}) {
    const auto built_in = check_one(text);
    const auto from_file = check_one(*file, text);
    EXPECT_EQ(built_in.verdict.reasons, from_file.verdict.reasons) << text;
    EXPECT_EQ(built_in.verdict.item_json, from_file.verdict.item_json) << text;
  }
}

TEST(RulesFile, StrictExampleLoadsAndApplies) {
  auto rules = load_file(SALESFLOW_TEST_DATA_DIR "/rules/strict.toml");
  ASSERT_TRUE(rules.has_value()) << rules.error();
  const auto ok = check_one(
      *rules,
      R"({"order-info":{"OrderId":"A","line":3,"quantity":2,"currency":"EUR"},"contact-info":{"email":"a@b.io"}})");
  ASSERT_TRUE(ok.verdict.valid) << reasons_text(ok.verdict);
  EXPECT_NE(ok.verdict.item_json.find(R"("LineNo":{"N":"3"})"), std::string::npos);
  EXPECT_NE(ok.verdict.item_json.find(R"("ingest_source":{"S":"s3://)"), std::string::npos);
  const auto bad = check_one(
      *rules,
      R"({"order-info":{"OrderId":"A","line":"x","quantity":0,"currency":"JPY"},"contact-info":{"email":"nope"}})");
  EXPECT_TRUE(has_reason(bad.verdict, ReasonCode::wrong_type, "/order-info/line"));
  EXPECT_TRUE(has_reason(bad.verdict, ReasonCode::invalid_format, "/order-info/quantity"));
  EXPECT_TRUE(has_reason(bad.verdict, ReasonCode::invalid_format, "/order-info/currency"));
  EXPECT_TRUE(has_reason(bad.verdict, ReasonCode::invalid_format, "/contact-info/email"));
  EXPECT_TRUE(has_reason(bad.verdict, ReasonCode::missing, "/contact-info"));
}

TEST(RulesFile, ReplaceDropsDefaults) {
  const Rules rules = load(R"(
defaults = "replace"
[key.partition]
attribute = "id"
path = "/id"
)");
  const auto result = check_one(rules, R"({"id":"x"})");
  EXPECT_TRUE(result.verdict.valid) << reasons_text(result.verdict);
  EXPECT_NE(result.verdict.item_json.find(R"("id":{"S":"x"})"), std::string::npos);
  EXPECT_EQ(codes(check_one(rules, R"({"other":"x"})").verdict), std::vector{ReasonCode::missing});
}

TEST(RulesFile, RequiredTypesMinMax) {
  const Rules rules = load(R"(
[[field]]
path = "/order-info/total"
required = true
types = ["number"]
min = 0.5
max = 10
)");
  const auto make = [](const char* total) {
    return std::string(R"({"order-info":{"OrderId":"A","total":)") + total +
           R"(},"contact-info":{"email":"x"}})";
  };
  EXPECT_TRUE(check_one(rules, make("0.5")).verdict.valid);
  EXPECT_TRUE(check_one(rules, make("10")).verdict.valid);
  EXPECT_EQ(codes(check_one(rules, make("0.4")).verdict), std::vector{ReasonCode::invalid_format});
  EXPECT_EQ(codes(check_one(rules, make("1e1000")).verdict),
            (std::vector{ReasonCode::invalid_number, ReasonCode::invalid_format}));
  EXPECT_EQ(codes(check_one(rules, make("\"3\"")).verdict), std::vector{ReasonCode::wrong_type});
}

TEST(RulesFile, GroupsOfPaths) {
  const Rules rules = load(R"(
[[at_least_one]]
paths = ["/order-info/sku", "/order-info/product"]
)");
  EXPECT_TRUE(
      check_one(rules, R"({"order-info":{"OrderId":"A","sku":1},"contact-info":{"email":"x"}})")
          .verdict.valid);
  const auto result =
      check_one(rules, R"({"order-info":{"OrderId":"A"},"contact-info":{"email":"x"}})");
  EXPECT_TRUE(has_reason(result.verdict, ReasonCode::missing, "/order-info"))
      << reasons_text(result.verdict);
}

TEST(RulesFile, BooleanNullArrayObjectTypes) {
  const Rules rules = load(R"(
[[field]]
path = "/flags"
required = true
types = ["boolean", "null", "array"]
)");
  const auto make = [](const char* value) {
    return std::string(R"({"order-info":{"OrderId":"A"},"contact-info":{"email":"x"},"flags":)") +
           value + "}";
  };
  EXPECT_TRUE(check_one(rules, make("true")).verdict.valid);
  EXPECT_TRUE(check_one(rules, make("null")).verdict.valid);
  EXPECT_TRUE(check_one(rules, make("[]")).verdict.valid);
  EXPECT_EQ(codes(check_one(rules, make("{}")).verdict), std::vector{ReasonCode::wrong_type});
}

TEST(RulesFile, KeyRuleIsAlwaysRequiredAndNonEmpty) {
  const Rules rules = load(R"(
[[field]]
path = "/order-info/OrderId"
types = ["string", "boolean"]
)");
  EXPECT_EQ(
      codes(check_one(rules, R"({"order-info":{"OrderId":true},"contact-info":{"email":"x"}})")
                .verdict),
      std::vector{ReasonCode::wrong_type});
  EXPECT_EQ(codes(check_one(rules, R"({"order-info":{},"contact-info":{"email":"x"}})").verdict),
            std::vector{ReasonCode::missing});
}

TEST(RulesFile, SyntaxErrorNamesTheLine) {
  const std::string error = error_of("defaults = \"extend\"\n\n[[field]\npath = 1\n");
  EXPECT_NE(error.find("test.toml:3:"), std::string::npos) << error;
}

TEST(RulesFile, SemanticErrorsNameTheLine) {
  struct Case {
    const char* text;
    const char* line;
    const char* words;
  };
  for (const Case& c : std::initializer_list<Case>{
           {"defaults = \"merge\"\n", "test.toml:1:", "defaults"},
           {"\n[[field]]\npath = \"/a\"\ntypes = [\"text\"]\n", "test.toml:4:", "unknown type"},
           {"[[field]]\npath = \"a\"\n", "test.toml:2:", "JSON pointer"},
           {"[[field]]\npath = \"/a\"\npattern = \"(\"\n", "test.toml:3:", "regular expression"},
           {"[[field]]\npath = \"/a\"\n\nmin = \"1\"\n", "test.toml:4:", "`min`"},
           {"[[field]]\nrequired = true\n", "test.toml:1:", "needs a `path`"},
           {"[[field]]\npath = \"/a\"\nsize = 3\n", "test.toml:3:", "unknown field setting"},
           {"colour = 1\n", "test.toml:1:", "unknown setting"},
           {"[metadata]\nsource = \"\"\n", "test.toml:2:", "metadata"},
           {"[metadata]\nwho = \"x\"\n", "test.toml:2:", "unknown metadata"},
           {"[key.partition]\nattribute = \"X\"\ntype = \"B\"\n", "test.toml:3:", "\"S\" or \"N\""},
           {"[key.sort]\nattribute = \"X\"\n", "test.toml:1:", "needs `attribute` and `path`"},
           {"[[at_least_one]]\npaths = [\"/a\"]\n", "test.toml:2:", "at least two"},
           {"[[field]]\npath = \"/a\"\nenum = [1]\n", "test.toml:3:", "strings"},
           {"max_reasons = 0\n", "test.toml:1:", "max_reasons"},
           {"[[field]]\npath = \"/a\"\nmin = 3\nmax = 1\n", "test.toml:1:", "above"},
       }) {
    const std::string error = error_of(c.text);
    EXPECT_NE(error.find(c.line), std::string::npos) << c.text << " -> " << error;
    EXPECT_NE(error.find(c.words), std::string::npos) << c.text << " -> " << error;
  }
}

TEST(RulesFile, NameClashBetweenKeyAndMetadataIsAnError) {
  const std::string error = error_of("[metadata]\netag = \"OrderId\"\n");
  EXPECT_NE(error.find("used twice"), std::string::npos) << error;
}

TEST(JsonPointer, SplitsAndEscapes) {
  EXPECT_EQ(*split_json_pointer("/a~1b/c~0d"), (std::vector<std::string>{"a/b", "c~d"}));
  EXPECT_FALSE(split_json_pointer("a").has_value());
  EXPECT_FALSE(split_json_pointer("/a~2").has_value());
  std::string pointer;
  append_pointer_segment(pointer, "a/b~");
  EXPECT_EQ(pointer, "/a~1b~0");
}

}  // namespace
}  // namespace salesflow::core
