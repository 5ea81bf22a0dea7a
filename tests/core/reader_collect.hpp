#pragma once
// Test helpers for the record readers: collect what a reader hands out, feed
// inputs in given chunks, and make gzip data with zlib.

#include <gtest/gtest.h>
#include <zlib.h>

#include <cstddef>
#include <cstdint>
#include <ostream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/reader.hpp"

namespace salesflow::core::testing {

struct Rec {
  std::string text;
  std::uint64_t index = 0;
  std::uint64_t offset = 0;
  std::uint64_t line = 0;
  bool operator==(const Rec&) const = default;
};

inline std::ostream& operator<<(std::ostream& os, const Rec& r) {
  return os << "{" << r.text << " #" << r.index << " @" << r.offset << " L" << r.line << "}";
}

struct Fault {
  Fault(std::uint64_t begin_, std::uint64_t end_, std::uint64_t records_before_, ReasonCode code_,
        std::string excerpt_, std::string message_ = {})
      : begin(begin_),
        end(end_),
        records_before(records_before_),
        code(code_),
        excerpt(std::move(excerpt_)),
        message(std::move(message_)) {}
  std::uint64_t begin = 0;
  std::uint64_t end = 0;
  std::uint64_t records_before = 0;
  ReasonCode code = ReasonCode::malformed_json;
  std::string excerpt;
  std::string message;
  bool operator==(const Fault& o) const {
    // The message is prose for people; tests compare the facts.
    return begin == o.begin && end == o.end && records_before == o.records_before &&
           code == o.code && excerpt == o.excerpt;
  }
};

inline std::ostream& operator<<(std::ostream& os, const Fault& f) {
  return os << "{fault [" << f.begin << "," << f.end << ") before=" << f.records_before
            << " code=" << static_cast<int>(f.code) << " excerpt='" << f.excerpt << "' ("
            << f.message << ")}";
}

struct Collected {
  std::vector<Rec> records;
  std::vector<Fault> faults;
  InputFormat format = InputFormat::automatic;
  std::uint64_t decompressed = 0;
  bool operator==(const Collected& o) const {
    return records == o.records && faults == o.faults && format == o.format &&
           decompressed == o.decompressed;
  }
};

inline void PrintTo(const Collected& c, std::ostream* os) {
  *os << "format " << static_cast<int>(c.format) << ", " << c.decompressed << " bytes:";
  for (const Rec& r : c.records) *os << " " << r;
  for (const Fault& f : c.faults) *os << " " << f;
}

class Collector final : public RecordHandler {
 public:
  explicit Collector(Collected& into) : into_(into) {}
  void on_record(const RawRecord& r) override {
    into_.records.push_back(Rec{std::string(r.text), r.index, r.offset, r.line});
  }
  void on_fault(const FileFault& f) override {
    into_.faults.push_back(
        Fault{f.begin, f.end, f.records_before, f.reason.code, f.excerpt, f.reason.message});
  }

 private:
  Collected& into_;
};

// Feeds `input` in pieces ending at the ascending positions `cuts`, then the rest.
inline Collected read_cut(std::string_view input, const std::vector<std::size_t>& cuts,
                          ReaderOptions options = {}) {
  Collected out;
  Collector collector(out);
  RecordReader reader(std::move(options));
  std::size_t pos = 0;
  for (const std::size_t cut : cuts) {
    if (cut < pos || cut > input.size()) continue;
    reader.feed(input.substr(pos, cut - pos), collector);
    pos = cut;
  }
  reader.feed(input.substr(pos), collector);
  reader.finish(collector);
  out.format = reader.detected_format();
  out.decompressed = reader.decompressed_bytes();
  return out;
}

inline Collected read_all(std::string_view input, ReaderOptions options = {}) {
  return read_cut(input, {}, std::move(options));
}

// Feeds `input` in pieces of `piece` bytes.
inline Collected read_pieces(std::string_view input, std::size_t piece,
                             ReaderOptions options = {}) {
  std::vector<std::size_t> cuts;
  for (std::size_t cut = piece; cut < input.size(); cut += piece) cuts.push_back(cut);
  return read_cut(input, cuts, std::move(options));
}

// Reads `input` whole, and checks byte-by-byte and 7-byte feeding agree.
inline Collected read(std::string_view input, const ReaderOptions& options = {}) {
  Collected whole = read_all(input, options);
  EXPECT_EQ(read_pieces(input, 1, options), whole) << "fed one byte at a time";
  EXPECT_EQ(read_pieces(input, 7, options), whole) << "fed 7 bytes at a time";
  return whole;
}

// One gzip member holding `data`.
inline std::string gzip(std::string_view data, int level = 6) {
  z_stream stream{};
  if (deflateInit2(&stream, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    throw std::runtime_error("deflateInit2");
  }
  std::string out(deflateBound(&stream, data.size()) + 32, '\0');
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  stream.avail_in = static_cast<uInt>(data.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  const int status = deflate(&stream, Z_FINISH);
  deflateEnd(&stream);
  if (status != Z_STREAM_END) throw std::runtime_error("deflate");
  out.resize(stream.total_out);
  return out;
}

// The non-whitespace bytes of `input` (not gzip) covered by neither a record
// nor a fault range, in order: what the reader treated as structure.
inline std::string uncovered(std::string_view input, const Collected& got) {
  std::vector<bool> covered(input.size(), false);
  for (const Rec& r : got.records) {
    for (std::size_t i = 0; i < r.text.size(); ++i) covered.at(r.offset + i) = true;
  }
  for (const Fault& f : got.faults) {
    for (std::uint64_t i = f.begin; i < f.end; ++i) covered.at(i) = true;
  }
  std::string rest;
  for (std::size_t i = 0; i < input.size(); ++i) {
    if (!covered[i] && !is_json_space(input[i])) rest.push_back(input[i]);
  }
  return rest;
}

}  // namespace salesflow::core::testing
