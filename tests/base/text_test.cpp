// The byte helpers of base/text.hpp, checked at compile time and at run time.
#include "base/text.hpp"

#include <gtest/gtest.h>

#include <string>

namespace salesflow::base {
namespace {

static_assert(is_json_space(' ') && is_json_space('\t') && is_json_space('\n') &&
              is_json_space('\r'));
static_assert(!is_json_space('\f') && !is_json_space('\v') && !is_json_space('\0'));
static_assert(trim(" \t a b \r\n") == "a b");
static_assert(hex_value('f') == 15 && hex_value('F') == 15 && hex_value('0') == 0);
static_assert(strip_etag_quotes("\"abc\"") == "abc");
static_assert(iequals("X-Amz-Date", "x-amz-date") && !iequals("a", "b"));

TEST(Text, JsonSpaceIsExactlyTheFourBytesOfRfc8259) {
  for (int c = 0; c < 256; ++c) {
    const bool expected = c == ' ' || c == '\t' || c == '\n' || c == '\r';
    EXPECT_EQ(is_json_space(static_cast<char>(c)), expected) << c;
  }
}

TEST(Text, TrimStripsBothEnds) {
  EXPECT_EQ(trim(""), "");
  EXPECT_EQ(trim(" \t\r\n"), "");
  EXPECT_EQ(trim("x"), "x");
  EXPECT_EQ(trim("  key = value\r"), "key = value");
  EXPECT_EQ(trim("\tinner  space\n"), "inner  space");
  EXPECT_EQ(trim("\fform feed\v"), "\fform feed\v");  // not JSON whitespace
}

TEST(Text, AsciiCaseFolding) {
  EXPECT_EQ(ascii_lower('A'), 'a');
  EXPECT_EQ(ascii_lower('Z'), 'z');
  EXPECT_EQ(ascii_lower('a'), 'a');
  EXPECT_EQ(ascii_lower('@'), '@');
  EXPECT_EQ(ascii_lower('['), '[');
  EXPECT_EQ(ascii_lower('\xC4'), '\xC4');  // no locale: bytes past ASCII stay
  EXPECT_TRUE(iequals("Content-Type", "content-type"));
  EXPECT_TRUE(iequals("", ""));
  EXPECT_FALSE(iequals("Content-Type", "content-typ"));
  EXPECT_FALSE(iequals("x-amz-date", "x-amz-data"));
}

TEST(Text, HexValueOfEveryByte) {
  const std::string digits = "0123456789abcdef";
  for (int c = 0; c < 256; ++c) {
    const char ch = static_cast<char>(c);
    const auto lower = static_cast<char>(c >= 'A' && c <= 'F' ? c - 'A' + 'a' : c);
    const std::size_t at = digits.find(lower);
    const int expected = at == std::string::npos ? -1 : static_cast<int>(at);
    EXPECT_EQ(hex_value(ch), expected) << c;
  }
}

TEST(Text, EtagQuotesStrippedOnlyInPairs) {
  EXPECT_EQ(strip_etag_quotes("\"d41d8cd98f00b204e9800998ecf8427e\""),
            "d41d8cd98f00b204e9800998ecf8427e");
  EXPECT_EQ(strip_etag_quotes("d41d8cd98f00b204e9800998ecf8427e-2"),
            "d41d8cd98f00b204e9800998ecf8427e-2");
  EXPECT_EQ(strip_etag_quotes("\"\""), "");
  EXPECT_EQ(strip_etag_quotes("\""), "\"");
  EXPECT_EQ(strip_etag_quotes("\"abc"), "\"abc");
  EXPECT_EQ(strip_etag_quotes(""), "");
}

}  // namespace
}  // namespace salesflow::base
