// gzip input: single and concatenated members, headers with a file name, and
// corrupt, truncated or trailing bytes.

#include <gtest/gtest.h>

#include <string>

#include "core/detail/gzip_inflater.hpp"
#include "core/reader.hpp"
#include "reader_collect.hpp"

namespace salesflow::core {
namespace {

using testing::Collected;
using testing::Fault;
using testing::gzip;
using testing::read_all;
using testing::read_pieces;
using testing::Rec;

std::string lines(int first, int count) {
  std::string out;
  for (int i = first; i < first + count; ++i) {
    out += "{\"order-info\":{\"OrderId\":\"" + std::to_string(i) + "\"},\"pad\":\"" +
           std::string(static_cast<std::size_t>(i % 50), 'x') + "\"}\n";
  }
  return out;
}

// Reads the gzip input whole and in pieces; all must agree.
Collected read(std::string_view input, ReaderOptions options = {}) {
  Collected whole = read_all(input, options);
  EXPECT_EQ(read_pieces(input, 1, options), whole);
  EXPECT_EQ(read_pieces(input, 1000, options), whole);
  return whole;
}

TEST(GzipReader, SingleMemberGivesTheSameRecordsAsPlain) {
  const std::string plain = lines(0, 500);
  const Collected expected = read_all(plain);
  const Collected got = read(gzip(plain));
  EXPECT_EQ(got, expected);
  EXPECT_EQ(got.records.size(), 500U);
  EXPECT_EQ(got.decompressed, plain.size());
}

TEST(GzipReader, ConcatenatedMembers) {
  const std::string a = lines(0, 300);
  const std::string b = lines(300, 1);
  const std::string c = lines(301, 200);
  const Collected got = read(gzip(a) + gzip(b) + gzip("") + gzip(c, 1));
  EXPECT_EQ(got, read_all(a + b + c));
  EXPECT_EQ(got.records.size(), 501U);
}

TEST(GzipReader, ArrayAcrossMembers) {
  const std::string got_input = gzip("[{\"a\":1},{\"b\"") + gzip(":2}]");
  const Collected got = read(got_input);
  EXPECT_EQ(got.format, InputFormat::array);
  EXPECT_EQ(got.records, (std::vector<Rec>{{"{\"a\":1}", 0, 1, 0}, {"{\"b\":2}", 1, 9, 0}}));
}

TEST(GzipReader, HeaderWithFileNameAndComment) {
  // FLG = FNAME | FCOMMENT; the deflate body and trailer come from zlib.
  const std::string plain = lines(0, 10);
  const std::string member = gzip(plain);
  std::string named = member.substr(0, 10);
  named[3] = static_cast<char>(0x08 | 0x10);
  named += std::string("sales.json") + '\0' + "a comment" + '\0';
  named += member.substr(10);
  EXPECT_EQ(read(named), read_all(plain));
}

TEST(GzipReader, CorruptStreamKeepsTheRecordsBefore) {
  const std::string plain = lines(0, 20000);
  std::string compressed = gzip(plain);
  for (std::size_t i = compressed.size() / 2; i < compressed.size() / 2 + 64; ++i) {
    compressed[i] = static_cast<char>(~compressed[i]);
  }
  const Collected got = read(compressed);
  ASSERT_EQ(got.faults.size(), 1U);
  const Fault& fault = got.faults.back();
  EXPECT_EQ(fault.code, ReasonCode::invalid_format);
  EXPECT_EQ(fault.begin, fault.end);
  EXPECT_GT(fault.begin, 0U);
  EXPECT_LT(fault.begin, plain.size());
  EXPECT_EQ(fault.records_before, got.records.size());
  // Inflate notices damage some way after it: bytes decoded from the damaged
  // blocks before that may be wrong (and are handed out), but those decoded
  // from the intact first half are exact.
  const Collected all = read_all(plain);
  ASSERT_GT(got.records.size(), 1000U);
  for (std::size_t i = 0; i < 1000; ++i) EXPECT_EQ(got.records[i], all.records[i]);
}

TEST(GzipReader, TruncatedStream) {
  const std::string plain = lines(0, 100);
  const std::string compressed = gzip(plain);
  // Cut inside the trailer: all data decompressed, the CRC cannot be checked.
  Collected got = read(compressed.substr(0, compressed.size() - 3));
  ASSERT_EQ(got.faults.size(), 1U);
  EXPECT_EQ(got.faults[0].code, ReasonCode::invalid_format);
  EXPECT_EQ(got.faults[0].begin, got.decompressed);
  EXPECT_NE(got.faults[0].message.find("truncated"), std::string::npos);
  EXPECT_EQ(got.records.size(), 100U);
  // Cut in the middle: the last partial line is still handed out as a record.
  got = read(compressed.substr(0, compressed.size() / 2));
  ASSERT_FALSE(got.faults.empty());
  EXPECT_EQ(got.faults.back().code, ReasonCode::invalid_format);
  EXPECT_EQ(got.faults.back().begin, got.decompressed);
  EXPECT_LT(got.decompressed, plain.size());
  // Only the magic bytes.
  got = read(compressed.substr(0, 2));
  EXPECT_EQ(got.faults, (std::vector<Fault>{{0, 0, 0, ReasonCode::invalid_format, ""}}));
}

TEST(GzipReader, TruncatedArrayInsideGzipGivesBothFaults) {
  std::string array = "[";
  for (int i = 0; i < 2000; ++i)
    array += (i ? ",{\"n\":" : "{\"n\":") + std::to_string(i * 7919) + "}";
  array += "]";
  const std::string compressed = gzip(array);
  const Collected got = read(compressed.substr(0, compressed.size() / 2));
  EXPECT_GT(got.records.size(), 0U);
  EXPECT_LT(got.records.size(), 2000U);
  ASSERT_EQ(got.faults.size(), 2U);
  EXPECT_EQ(got.faults[0].code, ReasonCode::malformed_json);  // the unclosed array
  EXPECT_EQ(got.faults[0].end, got.decompressed);
  EXPECT_EQ(got.faults[1].code, ReasonCode::invalid_format);  // the gzip stream
  EXPECT_EQ(got.faults[1].begin, got.decompressed);
}

TEST(GzipReader, ChecksumMismatch) {
  const std::string plain = lines(0, 50);
  std::string compressed = gzip(plain);
  compressed[compressed.size() - 6] = static_cast<char>(compressed[compressed.size() - 6] ^ 1);
  const Collected got = read(compressed);
  EXPECT_EQ(got.records.size(), 50U);
  ASSERT_EQ(got.faults.size(), 1U);
  EXPECT_EQ(got.faults[0].code, ReasonCode::invalid_format);
  EXPECT_EQ(got.faults[0].begin, plain.size());
  EXPECT_NE(got.faults[0].message.find("CRC"), std::string::npos);
}

TEST(GzipReader, TrailingGarbageAfterAMember) {
  const std::string plain = lines(0, 5);
  const Collected got = read(gzip(plain) + "garbage");
  EXPECT_EQ(got.records.size(), 5U);
  ASSERT_EQ(got.faults.size(), 1U);
  EXPECT_EQ(got.faults[0].code, ReasonCode::invalid_format);
  EXPECT_EQ(got.faults[0].begin, plain.size());
}

TEST(GzipInflater, ReportsOffsetsAndSticksToTheFirstError) {
  class Sink final : public ByteSink {
   public:
    void on_bytes(std::string_view bytes) override { out.append(bytes); }
    std::string out;
  } sink;
  GzipInflater inflater;
  const std::string plain = lines(0, 3000);
  const std::string compressed = gzip(plain);
  ASSERT_TRUE(inflater.feed(compressed, sink));
  ASSERT_TRUE(inflater.finish());
  EXPECT_EQ(sink.out, plain);
  EXPECT_EQ(inflater.compressed_bytes(), compressed.size());
  EXPECT_EQ(inflater.decompressed_bytes(), plain.size());

  GzipInflater broken;
  const auto first = broken.feed("\x1f\x8b\x09junkjunkjunk", sink);
  ASSERT_FALSE(first);
  EXPECT_EQ(first.error().decompressed_offset, 0U);
  EXPECT_FALSE(broken.feed(compressed, sink));
  EXPECT_FALSE(broken.finish());

  GzipInflater empty;
  EXPECT_FALSE(empty.finish());
}

}  // namespace
}  // namespace salesflow::core
