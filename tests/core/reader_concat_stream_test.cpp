// A 1 GiB `jq .`-style stream, generated on the fly and never held whole,
// through RecordReader: the exact record count, a damaged document in the
// middle that costs only itself, and a peak RSS far below the stream's size.
//
// SALESFLOW_CONCAT_STREAM_MIB sets the stream's size in MiB: default 1024
// (about 3 s on a shared 2-core machine), 256 under AddressSanitizer, whose
// checks make the scan several times slower.

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <string>
#include <string_view>

#include "core/reader.hpp"

namespace salesflow::core {
namespace {

// What `jq .` writes for one ~600-byte sales record.
std::string pretty_record(std::uint64_t n) {
  const std::string id = std::to_string(n);
  return "{\n"
         "  \"order-info\": {\n"
         "    \"OrderId\": \"ORD-" +
         id +
         "\",\n"
         "    \"OrderDate\": \"2024-05-01T12:00:00Z\",\n"
         "    \"Items\": [\n"
         "      {\n"
         "        \"Sku\": \"SKU-" +
         id +
         "\",\n"
         "        \"Quantity\": 2,\n"
         "        \"Tags\": [\"a\", \"b\\\"c\", \"{d}\"]\n"
         "      },\n"
         "      {\n"
         "        \"Sku\": \"SKU-X\",\n"
         "        \"Quantity\": 1,\n"
         "        \"Tags\": []\n"
         "      }\n"
         "    ],\n"
         "    \"Total\": \"123.45\"\n"
         "  },\n"
         "  \"contact-info\": {\n"
         "    \"Name\": \"Zo\xC3\xAB O'Brien\",\n"
         "    \"Email\": \"zoe@example.com\",\n"
         "    \"Address\": {\n"
         "      \"Street\": \"1 Main St\",\n"
         "      \"City\": \"Dublin\"\n"
         "    }\n"
         "  },\n"
         "  \"notes\": \"path C:\\\\temp [x] }\"\n"
         "}\n";
}

class Counter final : public RecordHandler {
 public:
  void on_record(const RawRecord& record) override {
    if (record.index != records) ++misnumbered;
    if (records == watch_index) watched_line = record.line;
    ++records;
    last_text_bytes = record.text.size();
  }
  void on_fault(const FileFault& fault) override {
    ++faults;
    fault_begin = fault.begin;
    fault_end = fault.end;
    fault_records_before = fault.records_before;
  }
  std::uint64_t records = 0;
  std::uint64_t misnumbered = 0;
  std::uint64_t watch_index = ~std::uint64_t{0};
  std::uint64_t watched_line = 0;
  std::uint64_t last_text_bytes = 0;
  std::uint64_t faults = 0;
  std::uint64_t fault_begin = 0;
  std::uint64_t fault_end = 0;
  std::uint64_t fault_records_before = 0;
};

// The process's peak RSS in KiB (VmHWM), or 0 when /proc does not tell.
std::uint64_t peak_rss_kib() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stoull(line.substr(6));
  }
  return 0;
}

// Resets VmHWM to the current RSS, so that earlier tests in the same process
// do not count (Linux 4.0+; without it the bound is only looser).
void reset_peak_rss() {
  std::ofstream clear_refs("/proc/self/clear_refs");
  clear_refs << "5";
}

#if defined(__SANITIZE_ADDRESS__)  // GCC
constexpr std::uint64_t kDefaultStreamMib = 256;
#elif defined(__has_feature)  // Clang
#if __has_feature(address_sanitizer)
constexpr std::uint64_t kDefaultStreamMib = 256;
#else
constexpr std::uint64_t kDefaultStreamMib = 1024;
#endif
#else
constexpr std::uint64_t kDefaultStreamMib = 1024;
#endif

std::uint64_t stream_mib() {
  const char* value = std::getenv("SALESFLOW_CONCAT_STREAM_MIB");
  return value != nullptr && *value != '\0' ? std::stoull(value) : kDefaultStreamMib;
}

TEST(ReaderConcatStream, OneGibJqStyleStreamWithDamageInTheMiddle) {
  // One period: whole records, about 1 MiB. It is fed over and over in three
  // pieces cut inside records, so records straddle chunks.
  std::string period;
  std::uint64_t per_period = 0;
  for (; period.size() < (std::size_t{1} << 20); ++per_period) period += pretty_record(per_period);
  std::uint64_t lines_per_period = 0;
  for (const char c : period) lines_per_period += c == '\n' ? 1 : 0;
  const std::string_view view(period);
  const std::size_t cut1 = period.size() / 3 + 7;
  const std::size_t cut2 = 2 * period.size() / 3 + 13;
  // A truncated record (an exporter that died mid-write), then the stream goes on.
  const std::string damaged = "{\n  \"order-info\": {\n    \"OrderId\": \"ORD-cut\",\n    \"Ite";

  const std::uint64_t periods = std::max<std::uint64_t>(2, (stream_mib() << 20) / period.size());
  const std::uint64_t damaged_after = periods / 2;
  Counter counter;
  // The first record after the damage starts on this line.
  counter.watch_index = damaged_after * per_period;
  const std::uint64_t expected_line = damaged_after * lines_per_period + 4 + 1;

  reset_peak_rss();
  RecordReader reader;
  std::uint64_t fed = 0;
  std::uint64_t damaged_at = 0;
  for (std::uint64_t p = 0; p < periods; ++p) {
    if (p == damaged_after) {
      damaged_at = fed;
      reader.feed(damaged + "\n", counter);
      fed += damaged.size() + 1;
    }
    reader.feed(view.substr(0, cut1), counter);
    reader.feed(view.substr(cut1, cut2 - cut1), counter);
    reader.feed(view.substr(cut2), counter);
    fed += period.size();
  }
  reader.finish(counter);
  const std::uint64_t peak_kib = peak_rss_kib();

  EXPECT_EQ(reader.detected_format(), InputFormat::concatenated);
  EXPECT_EQ(reader.decompressed_bytes(), fed);
  EXPECT_GE(fed, stream_mib() << 20 > period.size() ? (stream_mib() << 20) - period.size() : 0);
  EXPECT_EQ(counter.records, periods * per_period);
  EXPECT_EQ(counter.misnumbered, 0U);
  EXPECT_EQ(counter.last_text_bytes, pretty_record(per_period - 1).size() - 1);
  EXPECT_EQ(counter.watched_line, expected_line);
  EXPECT_EQ(counter.faults, 1U);
  EXPECT_EQ(counter.fault_begin, damaged_at);
  EXPECT_EQ(counter.fault_end, damaged_at + damaged.size() + 1);
  EXPECT_EQ(counter.fault_records_before, damaged_after * per_period);
  // The period, the reader's buffers and the test binary: a few MiB, not
  // anything like the stream.
  if (peak_kib != 0) {
    EXPECT_LT(peak_kib, std::uint64_t{64} << 10)
        << "peak RSS " << peak_kib << " KiB for " << fed << " bytes";
  }
  RecordProperty("bytes", std::to_string(fed));
  RecordProperty("peak_rss_kib", std::to_string(peak_kib));
}

}  // namespace
}  // namespace salesflow::core
