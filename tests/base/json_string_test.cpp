// JSON string escaping: what RFC 8259 requires, SQS's extra escapes, the
// pre-sized writer, and every ASCII byte through rapidjson as the oracle.
#include "base/json_string.hpp"

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <string>
#include <vector>

namespace salesflow::base {
namespace {

TEST(JsonString, EscapesWhatJsonRequires) {
  std::string out;
  append_json_string(out, std::string_view("a\"b\\c\n\x01\x7f\xc3\xa9", 10));
  EXPECT_EQ(out, "\"a\\\"b\\\\c\\n\\u0001\x7f\xc3\xa9\"");
  out.clear();
  append_json_string(out, "\xEF\xBF\xBE\xEF\xBF\xBF\xEF\xBF\xBD", Escaping::sqs);
  EXPECT_EQ(out, "\"\\ufffe\\uffff\xEF\xBF\xBD\"");
  out.clear();
  append_json_string(out, "\xEF\xBF\xBE");  // plain JSON keeps U+FFFE
  EXPECT_EQ(out, "\"\xEF\xBF\xBE\"");
}

TEST(JsonString, EveryByteRoundTripsThroughRapidJson) {
  std::string all;
  for (int c = 0; c < 0x80; ++c) all.push_back(static_cast<char>(c));
  for (const std::size_t at : {0, 7, 8, 9, 63}) {  // around the 8-byte steps
    const std::string text = std::string(at, 'x') + all;
    std::string out;
    append_json_string(out, text);
    rapidjson::Document parsed;
    parsed.Parse(out.c_str(), out.size());
    ASSERT_TRUE(parsed.IsString()) << out;
    EXPECT_EQ(std::string(parsed.GetString(), parsed.GetStringLength()), text);
  }
}

TEST(JsonString, WriterMatchesAppenderWithinItsBound) {
  for (const std::string& text : {std::string(), std::string("plain text, long enough"),
                                  std::string("\x01\x02\x1f\"\\", 5), std::string(40, '\n')}) {
    std::string appended;
    append_json_string(appended, text);
    std::vector<char> buffer(json_string_bound(text.size()));
    const char* const end = write_json_string(buffer.data(), text);
    ASSERT_LE(static_cast<std::size_t>(end - buffer.data()), buffer.size());
    EXPECT_EQ(std::string(static_cast<const char*>(buffer.data()), end), appended);
  }
}

}  // namespace
}  // namespace salesflow::base
