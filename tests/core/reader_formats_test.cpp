// The record readers on hand-written inputs: every format, the detection rule,
// and every way a file can break. Each test states the exact records and
// faults, and checks they come out the same when fed one byte at a time.

#include <gtest/gtest.h>

#include <string>

#include "core/reader.hpp"
#include "reader_collect.hpp"

namespace salesflow::core {
namespace {

using testing::Collected;
using testing::Fault;
using testing::read;
using testing::Rec;
using testing::uncovered;

TEST(ReaderJsonLines, OneRecordPerLineWithOffsetsAndLines) {
  const std::string input = "{\"a\":1}\n{\"b\":2}\n";
  const Collected got = read(input);
  EXPECT_EQ(got.format, InputFormat::json_lines);
  EXPECT_EQ(got.records, (std::vector<Rec>{{"{\"a\":1}", 0, 0, 1}, {"{\"b\":2}", 1, 8, 2}}));
  EXPECT_TRUE(got.faults.empty());
  EXPECT_EQ(got.decompressed, input.size());
  EXPECT_EQ(uncovered(input, got), "");
}

TEST(ReaderJsonLines, CrlfIsNotPartOfTheRecord) {
  const Collected got = read("{\"a\":1}\r\n{\"b\":2}\r\n");
  EXPECT_EQ(got.records, (std::vector<Rec>{{"{\"a\":1}", 0, 0, 1}, {"{\"b\":2}", 1, 9, 2}}));
}

TEST(ReaderJsonLines, BomBlankLinesAndMissingFinalNewline) {
  const std::string input = "\xEF\xBB\xBF{\"a\":1}\n\n   \r\n\t{\"b\":2} \n{\"c\":3}";
  const Collected got = read(input);
  EXPECT_EQ(got.format, InputFormat::json_lines);
  EXPECT_EQ(
      got.records,
      (std::vector<Rec>{{"{\"a\":1}", 0, 3, 1}, {"{\"b\":2}", 1, 18, 4}, {"{\"c\":3}", 2, 27, 5}}));
  EXPECT_TRUE(got.faults.empty());
  EXPECT_EQ(uncovered(input, got), "\xEF\xBB\xBF");
}

TEST(ReaderJsonLines, MalformedLinesAreStillRecords) {
  const std::string input = "{\"a\":\nnot json\n[1,2]\n\"s\"\n";
  const Collected got = read(input);
  EXPECT_EQ(
      got.records,
      (std::vector<Rec>{
          {"{\"a\":", 0, 0, 1}, {"not json", 1, 6, 2}, {"[1,2]", 2, 15, 3}, {"\"s\"", 3, 21, 4}}));
  EXPECT_TRUE(got.faults.empty());
}

TEST(ReaderJsonLines, TopLevelScalarAndObjectWithoutOrdersAreJsonLines) {
  Collected got = read("42\n");
  EXPECT_EQ(got.format, InputFormat::json_lines);
  EXPECT_EQ(got.records, (std::vector<Rec>{{"42", 0, 0, 1}}));
  got = read("{\"foo\":1}");
  EXPECT_EQ(got.format, InputFormat::json_lines);
  EXPECT_EQ(got.records, (std::vector<Rec>{{"{\"foo\":1}", 0, 0, 1}}));
  got = read("{\"orders\":5}\n");
  EXPECT_EQ(got.format, InputFormat::json_lines);
  EXPECT_EQ(got.records, (std::vector<Rec>{{"{\"orders\":5}", 0, 0, 1}}));
}

TEST(ReaderJsonLines, LinesWithAnOrdersArrayFollowedByAnotherLineAreJsonLines) {
  const std::string input = "{\"orders\":[1]}\n{\"orders\":[2]}\n";
  const Collected got = read(input);
  EXPECT_EQ(got.format, InputFormat::json_lines);
  EXPECT_EQ(got.records,
            (std::vector<Rec>{{"{\"orders\":[1]}", 0, 0, 1}, {"{\"orders\":[2]}", 1, 15, 2}}));
}

TEST(ReaderJsonLines, UnicodeIsPassedThrough) {
  const std::string input = "{\"n\":\"Zo\xC3\xAB \xF0\x9F\x98\x80\",\"e\":\"\\u00e9\"}\n";
  const Collected got = read(input);
  ASSERT_EQ(got.records.size(), 1U);
  EXPECT_EQ(got.records[0].text, input.substr(0, input.size() - 1));
}

TEST(ReaderArray, ElementsOfATopLevelArray) {
  const std::string input = "[ {\"a\":1},\n {\"b\":2} ]\n";
  const Collected got = read(input);
  EXPECT_EQ(got.format, InputFormat::array);
  EXPECT_EQ(got.records, (std::vector<Rec>{{"{\"a\":1}", 0, 2, 0}, {"{\"b\":2}", 1, 12, 0}}));
  EXPECT_TRUE(got.faults.empty());
  EXPECT_EQ(uncovered(input, got), "[,]");
}

TEST(ReaderArray, StringsWithBracketsQuotesAndBackslashes) {
  const std::string e0 = R"({"s":"a\"b}]","t":"{["})";
  const std::string e1 = R"({"u":"c\\","v":"\\\"]"})";
  const std::string e2 = R"("]\"},[")";
  const std::string input = "[" + e0 + "," + e1 + "," + e2 + "]";
  const Collected got = read(input);
  EXPECT_EQ(got.records,
            (std::vector<Rec>{
                {e0, 0, 1, 0}, {e1, 1, 2 + e0.size(), 0}, {e2, 2, 3 + e0.size() + e1.size(), 0}}));
  EXPECT_TRUE(got.faults.empty());
}

TEST(ReaderArray, ScalarsAndNestedArraysAreRecords) {
  const std::string input = R"([1, "x", true, null, -2.5e3, {"a":[1,[2]]}, [3, [4]], []])";
  const Collected got = read(input);
  std::vector<std::string> texts;
  for (const Rec& r : got.records) texts.push_back(r.text);
  EXPECT_EQ(texts, (std::vector<std::string>{"1", "\"x\"", "true", "null", "-2.5e3",
                                             R"({"a":[1,[2]]})", "[3, [4]]", "[]"}));
  for (const Rec& r : got.records) EXPECT_EQ(input.substr(r.offset, r.text.size()), r.text);
  EXPECT_TRUE(got.faults.empty());
}

TEST(ReaderArray, EmptyArrayHasNoRecords) {
  const Collected got = read(" [ ] \n");
  EXPECT_EQ(got.format, InputFormat::array);
  EXPECT_TRUE(got.records.empty());
  EXPECT_TRUE(got.faults.empty());
}

TEST(ReaderArray, BomBeforeTheArray) {
  const Collected got = read("\xEF\xBB\xBF[{\"a\":1}]");
  EXPECT_EQ(got.records, (std::vector<Rec>{{"{\"a\":1}", 0, 4, 0}}));
}

TEST(ReaderArray, TruncatedArrayKeepsTheRecordsBefore) {
  const std::string input = "[{\"a\":1},{\"b\":";
  const Collected got = read(input);
  EXPECT_EQ(got.records, (std::vector<Rec>{{"{\"a\":1}", 0, 1, 0}}));
  EXPECT_EQ(got.faults,
            (std::vector<Fault>{{9, input.size(), 1, ReasonCode::malformed_json, "{\"b\":"}}));
  EXPECT_EQ(uncovered(input, got), "[,");
}

TEST(ReaderArray, UnclosedArrayAfterAnElement) {
  const std::string input = "[{\"a\":1}, ";
  const Collected got = read(input);
  EXPECT_EQ(got.records.size(), 1U);
  EXPECT_EQ(got.faults, (std::vector<Fault>{{10, 10, 1, ReasonCode::malformed_json, ""}}));
}

TEST(ReaderArray, GarbageInTheMiddle) {
  const std::string input = "[{\"a\":1} x {\"b\":2}]";
  const Collected got = read(input);
  EXPECT_EQ(got.records, (std::vector<Rec>{{"{\"a\":1}", 0, 1, 0}}));
  EXPECT_EQ(got.faults,
            (std::vector<Fault>{{9, input.size(), 1, ReasonCode::malformed_json, "x {\"b\":2}]"}}));
  EXPECT_EQ(uncovered(input, got), "[");
}

TEST(ReaderArray, MissingCommaAndTrailingComma) {
  Collected got = read("[{\"a\":1} {\"b\":2}]");
  EXPECT_EQ(got.records.size(), 1U);
  EXPECT_EQ(got.faults, (std::vector<Fault>{{9, 17, 1, ReasonCode::malformed_json, "{\"b\":2}]"}}));
  got = read("[{\"a\":1},]");
  EXPECT_EQ(got.records.size(), 1U);
  EXPECT_EQ(got.faults, (std::vector<Fault>{{9, 10, 1, ReasonCode::malformed_json, "]"}}));
  got = read("[,{\"a\":1}]");
  EXPECT_TRUE(got.records.empty());
  EXPECT_EQ(got.faults,
            (std::vector<Fault>{{1, 10, 0, ReasonCode::malformed_json, ",{\"a\":1}]"}}));
}

TEST(ReaderArray, TrailingGarbageAfterTheArray) {
  const std::string input = "[{\"a\":1}]\n xyz\n";
  const Collected got = read(input);
  EXPECT_EQ(got.records.size(), 1U);
  EXPECT_EQ(got.faults,
            (std::vector<Fault>{{11, input.size(), 1, ReasonCode::malformed_json, "xyz "}}));
  EXPECT_EQ(uncovered(input, got), "[]");
}

TEST(ReaderArray, UnbalancedElementSwallowsWhatFollows) {
  // One depth counter for [] and {}: the '}' closes the '[', and the element
  // runs on to the array's ']'. It is one (malformed) record; nothing is lost.
  const std::string input = "[{\"a\":[1,2}, {\"b\":2}]";
  const Collected got = read(input);
  EXPECT_EQ(got.records, (std::vector<Rec>{{input.substr(1), 0, 1, 0}}));
  EXPECT_EQ(got.faults, (std::vector<Fault>{{21, 21, 1, ReasonCode::malformed_json, ""}}));
}

TEST(ReaderArray, ElementThatNeverClosesRunsToTheEnd) {
  const std::string input = "[{\"a\":1},{\"b\":{\"c\":[2]}\n";
  const Collected got = read(input);
  EXPECT_EQ(got.records, (std::vector<Rec>{{"{\"a\":1}", 0, 1, 0}}));
  EXPECT_EQ(got.faults, (std::vector<Fault>{{9, input.size(), 1, ReasonCode::malformed_json,
                                             "{\"b\":{\"c\":[2]} "}}));
  EXPECT_EQ(uncovered(input, got), "[,");
}

TEST(ReaderWrapped, OrdersMemberBetweenOtherMembers) {
  const std::string input =
      "{\"meta\":{\"x\":[1,{\"orders\":[9]}]},\"n\":\"]\",\"orders\":[{\"a\":1},\n{\"b\":2}],"
      "\"count\":2,\"t\":true}\n";
  const Collected got = read(input);
  EXPECT_EQ(got.format, InputFormat::wrapped);
  const std::size_t first = input.find("{\"a\"");
  const std::size_t second = input.find("{\"b\"");
  EXPECT_EQ(got.records,
            (std::vector<Rec>{{"{\"a\":1}", 0, first, 0}, {"{\"b\":2}", 1, second, 0}}));
  EXPECT_TRUE(got.faults.empty());
}

TEST(ReaderWrapped, MemberNameIsComparedUnescaped) {
  const Collected got = read("{\"ord\\u0065rs\":[{\"a\":1}]}");
  EXPECT_EQ(got.format, InputFormat::wrapped);
  EXPECT_EQ(got.records, (std::vector<Rec>{{"{\"a\":1}", 0, 16, 0}}));
}

TEST(ReaderWrapped, ConfigurableMemberName) {
  ReaderOptions options;
  options.wrapper_member = "items";
  Collected got = read("{\"orders\":[1],\"items\":[{\"a\":1}]}", options);
  EXPECT_EQ(got.format, InputFormat::wrapped);
  EXPECT_EQ(got.records, (std::vector<Rec>{{"{\"a\":1}", 0, 23, 0}}));
  // With the default name, the same object is one JSON Lines record of its own.
  got = read("{\"items\":[{\"a\":1}]}");
  EXPECT_EQ(got.format, InputFormat::json_lines);
  EXPECT_EQ(got.records.size(), 1U);
}

TEST(ReaderWrapped, EmptyOrdersArray) {
  const Collected got = read("{\"orders\":[]}");
  EXPECT_EQ(got.format, InputFormat::wrapped);
  EXPECT_TRUE(got.records.empty());
  EXPECT_TRUE(got.faults.empty());
}

TEST(ReaderWrapped, TrailingGarbageAfterTheObject) {
  const std::string input = "{\"orders\":[{\"a\":1}]} junk";
  const Collected got = read(input);
  EXPECT_EQ(got.format, InputFormat::wrapped);
  EXPECT_EQ(got.records.size(), 1U);
  EXPECT_EQ(got.faults, (std::vector<Fault>{{21, 25, 1, ReasonCode::malformed_json, "junk"}}));
}

TEST(ReaderWrapped, BrokenInsideTheOrdersArray) {
  const std::string input = "{\"orders\":[{\"a\":1},{\"b\":2}}, \"x\":1}";
  const Collected got = read(input);
  EXPECT_EQ(got.records.size(), 2U);
  EXPECT_EQ(got.faults,
            (std::vector<Fault>{{26, input.size(), 2, ReasonCode::malformed_json, "}, \"x\":1}"}}));
}

TEST(ReaderWrapped, DuplicateOrdersMemberIsAFault) {
  const std::string input = "{\"orders\":[1],\"orders\":[2]}";
  const Collected got = read(input);
  EXPECT_EQ(got.records, (std::vector<Rec>{{"1", 0, 11, 0}}));
  EXPECT_EQ(got.faults,
            (std::vector<Fault>{{23, input.size(), 1, ReasonCode::duplicate_member, "[2]}"}}));
}

TEST(ReaderWrapped, ForcedWrappedWithoutOrdersIsAShapeFault) {
  ReaderOptions options;
  options.format = InputFormat::wrapped;
  Collected got = read("{\"foo\":[1]}\n", options);
  EXPECT_TRUE(got.records.empty());
  EXPECT_EQ(got.faults, (std::vector<Fault>{{0, 12, 0, ReasonCode::wrong_type, "{\"foo\":[1]} "}}));
  got = read("{\"orders\":{\"a\":1}}", options);
  EXPECT_EQ(got.faults, (std::vector<Fault>{{10, 18, 0, ReasonCode::wrong_type, "{\"a\":1}}"}}));
}

TEST(ReaderForced, ArrayOnJsonLinesAndJsonLinesOnArray) {
  ReaderOptions array;
  array.format = InputFormat::array;
  Collected got = read("{\"a\":1}\n{\"b\":2}\n", array);
  EXPECT_EQ(got.format, InputFormat::array);
  EXPECT_TRUE(got.records.empty());
  EXPECT_EQ(got.faults,
            (std::vector<Fault>{{0, 16, 0, ReasonCode::malformed_json, "{\"a\":1} {\"b\":2} "}}));
  ReaderOptions lines;
  lines.format = InputFormat::json_lines;
  got = read("[\n{\"a\":1},\n{\"b\":2}\n]\n", lines);
  EXPECT_EQ(got.format, InputFormat::json_lines);
  EXPECT_EQ(got.records.size(), 4U);
}

TEST(ReaderDetection, EmptyAndWhitespaceOnlyHaveNothing) {
  for (const std::string input : {"", " \n\t\r\n", "\xEF\xBB\xBF", "\xEF\xBB\xBF\n"}) {
    const Collected got = read(input);
    EXPECT_EQ(got.format, InputFormat::json_lines);
    EXPECT_TRUE(got.records.empty());
    EXPECT_TRUE(got.faults.empty());
  }
}

TEST(ReaderDetection, NotJsonIsOneFaultForTheWholeFile) {
  const std::string binary("\n\x00\x01\x02\xff{\"a\":1}\n", 13);
  Collected got = read(binary);
  EXPECT_TRUE(got.records.empty());
  EXPECT_EQ(got.faults,
            (std::vector<Fault>{{1, 13, 0, ReasonCode::invalid_format, "???\?{\"a\":1} "}}));
  got = read("hello world\n{\"a\":1}\n");
  EXPECT_EQ(got.faults,
            (std::vector<Fault>{{0, 20, 0, ReasonCode::invalid_format, "hello world {\"a\":1} "}}));
  // A lone 0x1f is not gzip.
  got = read("\x1f");
  EXPECT_EQ(got.faults, (std::vector<Fault>{{0, 1, 0, ReasonCode::invalid_format, "?"}}));
}

TEST(ReaderDetection, ParseInputFormatNames) {
  EXPECT_EQ(parse_input_format("auto"), InputFormat::automatic);
  EXPECT_EQ(parse_input_format("jsonl"), InputFormat::json_lines);
  EXPECT_EQ(parse_input_format("array"), InputFormat::array);
  EXPECT_EQ(parse_input_format("wrapped"), InputFormat::wrapped);
  EXPECT_EQ(parse_input_format("csv"), std::nullopt);
  EXPECT_EQ(to_string(InputFormat::json_lines), "jsonl");
}

TEST(ReaderDetection, FirstObjectLongerThanTheLimitDecidesByItsMembers) {
  ReaderOptions options;
  options.max_record_bytes = 16;
  // The orders array opens within the first 16 bytes: wrapped.
  const std::string wrapped = "{\"orders\":[{\"a\":1},{\"b\":2}]}\n";
  Collected got = read(wrapped, options);
  EXPECT_EQ(got.format, InputFormat::wrapped);
  EXPECT_EQ(got.records.size(), 2U);
  const std::string lines = "{\"x\":\"long long long\"}\n{\"a\":1}\n";
  got = read(lines, options);
  EXPECT_EQ(got.format, InputFormat::json_lines);
  EXPECT_EQ(got.records, (std::vector<Rec>{{"{\"a\":1}", 0, 23, 2}}));
  EXPECT_EQ(got.faults,
            (std::vector<Fault>{{0, 22, 0, ReasonCode::too_large, "{\"x\":\"long long long\"}"}}));
}

TEST(ReaderLimits, OversizeLineIsAFaultAndReadingGoesOn) {
  ReaderOptions options;
  options.max_record_bytes = 12;
  const std::string input = "{\"a\":1}\n{\"b\":\"0123456789\"}\r\n{\"c\":3}\n                  \n";
  const Collected got = read(input, options);
  EXPECT_EQ(got.records, (std::vector<Rec>{{"{\"a\":1}", 0, 0, 1}, {"{\"c\":3}", 1, 28, 3}}));
  EXPECT_EQ(got.faults,
            (std::vector<Fault>{{8, 27, 1, ReasonCode::too_large, "{\"b\":\"0123456789\"} "}}));
  EXPECT_EQ(uncovered(input, got), "");
}

TEST(ReaderLimits, OversizeElementIsAFaultAndReadingGoesOn) {
  ReaderOptions options;
  options.max_record_bytes = 12;
  const std::string input = "[{\"a\":1},{\"b\":\"0123456789\"},\"0123456789abc\",{\"c\":3}]";
  const Collected got = read(input, options);
  EXPECT_EQ(got.records, (std::vector<Rec>{{"{\"a\":1}", 0, 1, 0}, {"{\"c\":3}", 1, 44, 0}}));
  EXPECT_EQ(got.faults,
            (std::vector<Fault>{{9, 27, 1, ReasonCode::too_large, "{\"b\":\"0123456789\"}"},
                                {28, 43, 1, ReasonCode::too_large, "\"0123456789abc\""}}));
  EXPECT_EQ(uncovered(input, got), "[,,,]");
}

TEST(ReaderLimits, TruncatedOversizeElement) {
  ReaderOptions options;
  options.max_record_bytes = 8;
  const std::string input = "[{\"b\":\"0123456789";
  const Collected got = read(input, options);
  EXPECT_TRUE(got.records.empty());
  EXPECT_EQ(
      got.faults,
      (std::vector<Fault>{{1, input.size(), 0, ReasonCode::malformed_json, input.substr(1)}}));
}

TEST(ReaderApi, FeedAndFinishDoNothingAfterFinish) {
  Collected got;
  testing::Collector collector(got);
  RecordReader reader;
  reader.feed("{\"a\":1}\n", collector);
  reader.finish(collector);
  reader.feed("{\"b\":2}\n", collector);
  reader.finish(collector);
  EXPECT_EQ(got.records.size(), 1U);
  EXPECT_EQ(reader.records(), 1U);
  EXPECT_FALSE(reader.is_gzip());
}

TEST(ReaderExcerpt, KeepsUtf8AndReplacesOtherBytes) {
  EXPECT_EQ(make_excerpt("a\tb\nc"), "a b c");
  EXPECT_EQ(make_excerpt("Zo\xC3\xAB"), "Zo\xC3\xAB");
  EXPECT_EQ(make_excerpt("\xC3"), "?");
  EXPECT_EQ(make_excerpt(std::string(100, 'x')), std::string(kExcerptBytes, 'x'));
}

TEST(ReaderJsonString, EqualsAfterUnescaping) {
  EXPECT_TRUE(json_string_equals("orders", "orders"));
  EXPECT_TRUE(json_string_equals("ord\\u0065rs", "orders"));
  EXPECT_TRUE(json_string_equals("a\\\"b\\\\", "a\"b\\"));
  EXPECT_TRUE(json_string_equals("\\ud83d\\ude00", "\xF0\x9F\x98\x80"));
  EXPECT_FALSE(json_string_equals("\\ud83d", "?"));
  EXPECT_FALSE(json_string_equals("\\x", "x"));
  EXPECT_FALSE(json_string_equals("order", "orders"));
}

}  // namespace
}  // namespace salesflow::core
