// Concatenated JSON documents (`jq . file`): detection next to JSON Lines and
// wrapper objects, splitting, damage and resynchronisation, oversize
// documents, chunk boundaries and gzip. Each test states the exact records
// and faults, and checks they come out the same when fed one byte at a time.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/reader.hpp"
#include "reader_collect.hpp"

namespace salesflow::core {
namespace {

using testing::Collected;
using testing::Fault;
using testing::gzip;
using testing::read;
using testing::read_all;
using testing::read_pieces;
using testing::Rec;
using testing::uncovered;

ReaderOptions forced() {
  ReaderOptions options;
  options.format = InputFormat::concatenated;
  return options;
}

// What `jq .` writes for {"order-info":{"OrderId":<id>},"contact-info":{"email":"a@b.c"}}.
std::string pretty(const std::string& id) {
  return "{\n  \"order-info\": {\n    \"OrderId\": \"" + id +
         "\"\n  },\n  \"contact-info\": {\n    \"email\": \"a@b.c\"\n  }\n}";
}
constexpr std::uint64_t kPrettyLines = 8;

TEST(ReaderConcatDetection, OnePrettyPrintedRecordIsOneRecord) {
  const std::string input = pretty("1") + "\n";
  const Collected got = read(input);
  EXPECT_EQ(got.format, InputFormat::concatenated);
  EXPECT_EQ(got.records, (std::vector<Rec>{{pretty("1"), 0, 0, 1}}));
  EXPECT_TRUE(got.faults.empty());
}

TEST(ReaderConcatDetection, PrettyPrintedObjectWithoutRecordMembersIsStillOneRecord) {
  // Not the wrong top-level shape any more: one record, which the validator rejects.
  const std::string input = "{\n  \"summary\": {\"orders\": 3},\n  \"total\": 12\n}\n";
  const Collected got = read(input);
  EXPECT_EQ(got.format, InputFormat::concatenated);
  EXPECT_EQ(got.records, (std::vector<Rec>{{input.substr(0, input.size() - 1), 0, 0, 1}}));
  EXPECT_TRUE(got.faults.empty());
  // The same object on one line stays one JSON Lines record.
  const Collected one_line = read("{\"summary\": 1, \"total\": 12}\n");
  EXPECT_EQ(one_line.format, InputFormat::json_lines);
  EXPECT_EQ(one_line.records.size(), 1U);
  EXPECT_TRUE(one_line.faults.empty());
}

TEST(ReaderConcatDetection, JqStyleRecordsWithOffsetsAndStartLines) {
  const std::string input = pretty("1") + "\n" + pretty("2") + "\n\n" + pretty("3") + "\n";
  const Collected got = read(input);
  EXPECT_EQ(got.format, InputFormat::concatenated);
  const std::uint64_t second = pretty("1").size() + 1;
  const std::uint64_t third = second + pretty("2").size() + 2;
  EXPECT_EQ(got.records, (std::vector<Rec>{{pretty("1"), 0, 0, 1},
                                           {pretty("2"), 1, second, kPrettyLines + 1},
                                           {pretty("3"), 2, third, 2 * kPrettyLines + 2}}));
  EXPECT_TRUE(got.faults.empty());
  EXPECT_EQ(uncovered(input, got), "");
}

TEST(ReaderConcatDetection, CompactDocumentsOnOneLineAreConcatenated) {
  const std::string input = "{\"a\":1}{\"b\":2} {\"c\":[3]}\n{\"d\":4}";
  const Collected got = read(input);
  EXPECT_EQ(got.format, InputFormat::concatenated);
  EXPECT_EQ(got.records, (std::vector<Rec>{{"{\"a\":1}", 0, 0, 1},
                                           {"{\"b\":2}", 1, 7, 1},
                                           {"{\"c\":[3]}", 2, 15, 1},
                                           {"{\"d\":4}", 3, 25, 2}}));
}

TEST(ReaderConcatDetection, JsonLinesStayJsonLines) {
  const std::string input = "{\"a\":1}\n{\"b\":2}\n";
  EXPECT_EQ(read(input).format, InputFormat::json_lines);
  // Forced, the same file gives the same records.
  const Collected got = read(input, forced());
  EXPECT_EQ(got.format, InputFormat::concatenated);
  Collected lines = read_all(input);
  lines.format = InputFormat::concatenated;
  EXPECT_EQ(got, lines);
}

TEST(ReaderConcatDetection, PrettyPrintedWrapperStaysWrapped) {
  const std::string input = "{\n  \"orders\": [\n    {\"a\": 1},\n    {\"b\": 2}\n  ]\n}\n";
  const Collected got = read(input);
  EXPECT_EQ(got.format, InputFormat::wrapped);
  EXPECT_EQ(got.records.size(), 2U);
  EXPECT_TRUE(got.faults.empty());
  // Followed by another document: still the wrapper, and the rest is its trailing fault.
  const std::string twice = input + "{\n  \"x\": 1\n}\n";
  const Collected more = read(twice);
  EXPECT_EQ(more.format, InputFormat::wrapped);
  EXPECT_EQ(more.records.size(), 2U);
  EXPECT_EQ(more.faults, (std::vector<Fault>{{input.size(), twice.size(), 2,
                                              ReasonCode::malformed_json, "{   \"x\": 1 } "}}));
}

TEST(ReaderConcatDetection, OrdersMemberThatIsNoArrayIsARecord) {
  const std::string input = "{\n  \"orders\": 5\n}\n{\n  \"orders\": {}\n}\n";
  const Collected got = read(input);
  EXPECT_EQ(got.format, InputFormat::concatenated);
  EXPECT_EQ(got.records, (std::vector<Rec>{{"{\n  \"orders\": 5\n}", 0, 0, 1},
                                           {"{\n  \"orders\": {}\n}", 1, 18, 4}}));
}

TEST(ReaderConcatDetection, FirstDocumentLongerThanTheLimitIsAFaultAndReadingGoesOn) {
  ReaderOptions options;
  options.max_record_bytes = 20;
  const std::string big = "{\n  \"x\": \"0123456789abcdef\"\n}";
  const std::string input = big + "\n{\"a\":1}\n";
  const Collected got = read(input, options);
  EXPECT_EQ(got.format, InputFormat::concatenated);
  EXPECT_EQ(got.records, (std::vector<Rec>{{"{\"a\":1}", 0, big.size() + 1, 4}}));
  EXPECT_EQ(got.faults,
            (std::vector<Fault>{{0, big.size(), 0, ReasonCode::too_large, make_excerpt(big)}}));
}

TEST(ReaderConcatDetection, StreamOfExactlyTheLimitIsReadTheSameWhateverTheChunks) {
  // Fed whole, the first 16 bytes decide before the end is known; fed in
  // pieces, only at the end: both must take the first document as unfinished
  // within the limit.
  ReaderOptions options;
  options.max_record_bytes = 16;
  const std::string input = "{\n  \"a\": \"012345";
  ASSERT_EQ(input.size(), 16U);
  const Collected got = read(input, options);
  EXPECT_EQ(got.format, InputFormat::concatenated);
  EXPECT_TRUE(got.records.empty());
  EXPECT_EQ(got.faults,
            (std::vector<Fault>{{0, 16, 0, ReasonCode::malformed_json, make_excerpt(input)}}));
}

TEST(ReaderConcatDetection, ParseAndPrintTheFormatName) {
  EXPECT_EQ(parse_input_format("concatenated"), InputFormat::concatenated);
  EXPECT_EQ(to_string(InputFormat::concatenated), "concatenated");
}

TEST(ReaderConcatSplit, EveryTopLevelValueIsARecord) {
  const std::string input = "[1, {\"a\":\"}\"}]\n\"s}\\\"\" 42 -1.5e3\ntrue null\n{}";
  const Collected got = read(input, forced());
  EXPECT_EQ(got.records, (std::vector<Rec>{{"[1, {\"a\":\"}\"}]", 0, 0, 1},
                                           {"\"s}\\\"\"", 1, 15, 2},
                                           {"42", 2, 22, 2},
                                           {"-1.5e3", 3, 25, 2},
                                           {"true", 4, 32, 3},
                                           {"null", 5, 37, 3},
                                           {"{}", 6, 42, 4}}));
  EXPECT_TRUE(got.faults.empty());
  EXPECT_EQ(uncovered(input, got), "");
}

TEST(ReaderConcatSplit, BomCrlfAndTabs) {
  const std::string input = "\xEF\xBB\xBF{\r\n\t\"a\": 1\r\n}\r\n\t{\r\n\t\"b\": 2\r\n}";
  const Collected got = read(input);
  EXPECT_EQ(got.format, InputFormat::concatenated);
  EXPECT_EQ(got.records, (std::vector<Rec>{{"{\r\n\t\"a\": 1\r\n}", 0, 3, 1},
                                           {"{\r\n\t\"b\": 2\r\n}", 1, 19, 4}}));
  EXPECT_EQ(uncovered(input, got), "\xEF\xBB\xBF");
}

TEST(ReaderConcatSplit, EmptyAndWhitespaceOnlyHaveNothing) {
  for (const std::string input : {"", " \n\t\r\n"}) {
    const Collected got = read(input, forced());
    EXPECT_TRUE(got.records.empty());
    EXPECT_TRUE(got.faults.empty());
  }
}

TEST(ReaderConcatDamage, BrokenDocumentInTheMiddleCostsOnlyItself) {
  // Truncated, unterminated string, unbalanced.
  for (const std::string broken : {"{\n  \"order-info\": {\n    \"OrderId\": \"2\"",
                                   "{\n  \"name\": \"Zo\n}", "{\n  \"a\": [1, {\"b\": 2}\n}"}) {
    const std::string input = pretty("1") + "\n" + broken + "\n" + pretty("3") + "\n";
    const Collected got = read(input);
    EXPECT_EQ(got.format, InputFormat::concatenated);
    const std::uint64_t begin = pretty("1").size() + 1;
    const std::uint64_t next = begin + broken.size() + 1;
    EXPECT_EQ(got.records,
              (std::vector<Rec>{{pretty("1"), 0, 0, 1}, {pretty("3"), 1, next, kPrettyLines + 4}}));
    EXPECT_EQ(got.faults, (std::vector<Fault>{{begin, next, 1, ReasonCode::malformed_json,
                                               make_excerpt(broken + "\n")}}));
    ASSERT_EQ(got.faults.size(), 1U);
    EXPECT_NE(got.faults[0].message.find("line 9"), std::string::npos) << got.faults[0].message;
    EXPECT_NE(got.faults[0].message.find("line 12"), std::string::npos) << got.faults[0].message;
    EXPECT_EQ(uncovered(input, got), "");
  }
}

TEST(ReaderConcatDamage, GarbageBetweenDocuments) {
  const std::string garbage = "}, ]\nxyz {\"a\":1}\n";
  const std::string input = pretty("1") + "\n" + garbage + pretty("2") + "\n";
  const Collected got = read(input);
  const std::uint64_t begin = pretty("1").size() + 1;
  const std::uint64_t next = begin + garbage.size();
  EXPECT_EQ(got.records,
            (std::vector<Rec>{{pretty("1"), 0, 0, 1}, {pretty("2"), 1, next, kPrettyLines + 3}}));
  EXPECT_EQ(
      got.faults,
      (std::vector<Fault>{{begin, next, 1, ReasonCode::malformed_json, make_excerpt(garbage)}}));
  EXPECT_EQ(uncovered(input, got), "");
}

TEST(ReaderConcatDamage, CommasBetweenCompactDocuments) {
  const std::string input = "{\"a\":1},\n{\"b\":2}\n";
  const Collected got = read(input, forced());
  EXPECT_EQ(got.records, (std::vector<Rec>{{"{\"a\":1}", 0, 0, 1}, {"{\"b\":2}", 1, 9, 2}}));
  EXPECT_EQ(got.faults, (std::vector<Fault>{{7, 9, 1, ReasonCode::malformed_json, ", "}}));
}

TEST(ReaderConcatDamage, OpenDocumentOrGarbageAtTheEnd) {
  const std::string open = "{\n  \"a\": [1,\n";
  Collected got = read(pretty("1") + "\n" + open);
  const std::uint64_t begin = pretty("1").size() + 1;
  EXPECT_EQ(got.records, (std::vector<Rec>{{pretty("1"), 0, 0, 1}}));
  EXPECT_EQ(got.faults, (std::vector<Fault>{{begin, begin + open.size(), 1,
                                             ReasonCode::malformed_json, make_excerpt(open)}}));
  got = read(pretty("1") + "\n}\n  ");
  EXPECT_EQ(got.faults,
            (std::vector<Fault>{{begin, begin + 4, 1, ReasonCode::malformed_json, "}   "}}));
}

TEST(ReaderConcatDamage, NestedObjectAtTheStartOfALineCutsTheDocument) {
  // Documented limit: pretty-printing without indentation is not resynchronised correctly.
  const std::string input = "{\n\"a\": [\n{\n\"b\": 1\n}\n]\n}\n";
  const Collected got = read(input, forced());
  EXPECT_EQ(got.records, (std::vector<Rec>{{"{\n\"b\": 1\n}", 0, 9, 3}}));
  EXPECT_EQ(got.faults,
            (std::vector<Fault>{{0, 9, 0, ReasonCode::malformed_json, "{ \"a\": [ "},
                                {20, input.size(), 1, ReasonCode::malformed_json, "] } "}}));
}

TEST(ReaderConcatLimits, OversizeDocumentIsAFaultAndReadingGoesOn) {
  ReaderOptions options = forced();
  options.max_record_bytes = 24;
  const std::string big = pretty("0123456789");
  const std::string input =
      "{\"a\":1}\n" + big + "\n\"0123456789abcdefghijklmnopqrstuvwxyz\"\n" + "{\"c\":3}\n";
  const Collected got = read(input, options);
  const std::uint64_t string_at = 8 + big.size() + 1;
  EXPECT_EQ(got.records, (std::vector<Rec>{{"{\"a\":1}", 0, 0, 1},
                                           {"{\"c\":3}", 1, string_at + 39, kPrettyLines + 3}}));
  EXPECT_EQ(got.faults,
            (std::vector<Fault>{{8, 8 + big.size(), 1, ReasonCode::too_large, make_excerpt(big)},
                                {string_at, string_at + 38, 1, ReasonCode::too_large,
                                 make_excerpt("\"0123456789abcdefghijklmnopqrstuvwxyz\"")}}));
  EXPECT_EQ(uncovered(input, got), "");
}

TEST(ReaderConcatLimits, OversizeBareScalarAtTheEnd) {
  ReaderOptions options = forced();
  options.max_record_bytes = 4;
  const Collected got = read("1 12345", options);
  EXPECT_EQ(got.records, (std::vector<Rec>{{"1", 0, 0, 1}}));
  EXPECT_EQ(got.faults, (std::vector<Fault>{{2, 7, 1, ReasonCode::too_large, "12345"}}));
}

TEST(ReaderConcatGzip, PrettyRecordsInGzipMembersGiveTheSameRecords) {
  std::string plain;
  for (int i = 0; i < 300; ++i) plain += pretty(std::to_string(i)) + "\n";
  const Collected expected = read_all(plain);
  EXPECT_EQ(expected.format, InputFormat::concatenated);
  EXPECT_EQ(expected.records.size(), 300U);
  const std::size_t half = plain.size() / 2;
  const std::string compressed =
      gzip(std::string_view(plain).substr(0, half)) + gzip(std::string_view(plain).substr(half));
  EXPECT_EQ(read_all(compressed), expected);
  EXPECT_EQ(read_pieces(compressed, 1, {}), expected);
  EXPECT_EQ(read_pieces(compressed, 1000, {}), expected);
}

}  // namespace
}  // namespace salesflow::core
