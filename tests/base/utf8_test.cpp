// UTF-8 well-formedness by Unicode's Table 3-7, and the repair that replaces
// every byte of an ill-formed sequence with U+FFFD.
#include "base/utf8.hpp"

#include <gtest/gtest.h>

namespace salesflow::base {
namespace {

TEST(Utf8, SequenceLengths) {
  EXPECT_EQ(utf8_sequence_length(""), 0u);
  EXPECT_EQ(utf8_sequence_length("a"), 1u);
  EXPECT_EQ(utf8_sequence_length(std::string_view("\0", 1)), 1u);
  EXPECT_EQ(utf8_sequence_length("\xC3\xA9"), 2u);
  EXPECT_EQ(utf8_sequence_length("\xE6\x97\xA5"), 3u);
  EXPECT_EQ(utf8_sequence_length("\xF0\x9F\x93\x88"), 4u);
  EXPECT_EQ(utf8_sequence_length("\x80"), 0u);              // a lone continuation byte
  EXPECT_EQ(utf8_sequence_length("\xC0\xAF"), 0u);          // overlong
  EXPECT_EQ(utf8_sequence_length("\xE0\x80\x80"), 0u);      // overlong
  EXPECT_EQ(utf8_sequence_length("\xED\xA0\x80"), 0u);      // a surrogate
  EXPECT_EQ(utf8_sequence_length("\xF4\x90\x80\x80"), 0u);  // past U+10FFFF
  EXPECT_EQ(utf8_sequence_length("\xE2\x82"), 0u);          // truncated
}

TEST(Utf8, ToValidUtf8) {
  EXPECT_EQ(to_valid_utf8("plain"), "plain");
  EXPECT_EQ(to_valid_utf8("\xC3\xA9\xF0\x9F\x93\x88"), "\xC3\xA9\xF0\x9F\x93\x88");
  EXPECT_EQ(to_valid_utf8("\xC0\xAF"), "\uFFFD\uFFFD");                      // overlong
  EXPECT_EQ(to_valid_utf8("\xF4\x90\x80\x80"), "\uFFFD\uFFFD\uFFFD\uFFFD");  // > U+10FFFF
  EXPECT_EQ(to_valid_utf8("\xE2\x82"), "\uFFFD\uFFFD");                      // truncated
  EXPECT_EQ(to_valid_utf8(""), "");
}

}  // namespace
}  // namespace salesflow::base
