// Feeds fuzzer input to RecordReader in fuzzer-chosen chunks, with a
// fuzzer-chosen format and record limit, and checks the reader's invariants:
// same output whatever the chunking, records numbered in order with
// increasing offsets, each record's text found at its offset (plain input),
// and faults with sane ranges.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/reader.hpp"

namespace {

using namespace salesflow::core;

struct Output {
  std::vector<std::string> texts;
  std::vector<std::uint64_t> offsets;
  std::vector<std::uint64_t> fault_ranges;
  bool stream_fault = false;  // invalid_format: not JSON, or a corrupt gzip stream
  bool operator==(const Output&) const = default;
};

class Checker final : public RecordHandler {
 public:
  explicit Checker(Output& out) : out_(out) {}
  void on_record(const RawRecord& record) override {
    if (record.index != out_.texts.size()) std::abort();
    if (!out_.offsets.empty() && record.offset <= out_.offsets.back()) std::abort();
    if (record.text.empty()) std::abort();
    out_.texts.emplace_back(record.text);
    out_.offsets.push_back(record.offset);
  }
  void on_fault(const FileFault& fault) override {
    if (fault.end < fault.begin || fault.records_before != out_.texts.size()) std::abort();
    out_.stream_fault = out_.stream_fault || fault.reason.code == ReasonCode::invalid_format;
    out_.fault_ranges.push_back(fault.begin);
    out_.fault_ranges.push_back(fault.end);
  }

 private:
  Output& out_;
};

Output run(std::string_view input, const std::vector<std::size_t>& cuts,
           const ReaderOptions& options) {
  Output out;
  Checker checker(out);
  RecordReader reader(options);
  std::size_t pos = 0;
  // Each chunk from an allocation of its own size, so that AddressSanitizer
  // sees a splitter reading past the chunk it was given.
  const auto feed = [&](std::string_view chunk) {
    const auto copy = std::make_unique<char[]>(chunk.size());
    std::memcpy(copy.get(), chunk.data(), chunk.size());
    reader.feed(std::string_view(copy.get(), chunk.size()), checker);
  };
  for (const std::size_t cut : cuts) {
    feed(input.substr(pos, cut - pos));
    pos = cut;
  }
  feed(input.substr(pos));
  reader.finish(checker);
  if (out.texts.size() != reader.records()) std::abort();
  for (std::size_t i = 0; i + 1 < out.fault_ranges.size(); i += 2) {
    if (out.fault_ranges[i + 1] > reader.decompressed_bytes()) std::abort();
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  // First byte: format (low 3 bits, modulo the 5 formats) and record limit;
  // second: chunk size seed.
  ReaderOptions options;
  options.format = static_cast<InputFormat>((data[0] & 7) % 5);
  options.max_record_bytes = (data[0] >> 3) == 0 ? std::size_t{16} << 20 : (data[0] >> 3) * 4;
  const unsigned seed = data[1];
  const std::string_view input(reinterpret_cast<const char*>(data) + 2, size - 2);

  std::vector<std::size_t> cuts;
  std::size_t step = 1 + seed % 13;
  for (std::size_t cut = step; cut < input.size(); cut += step) {
    cuts.push_back(cut);
    step = 1 + (step * 7 + seed) % 29;
  }
  const bool gzip = input.size() >= 2 && static_cast<unsigned char>(input[0]) == 0x1f &&
                    static_cast<unsigned char>(input[1]) == 0x8b;
  const Output whole = run(input, {}, options);
  const Output chunked = run(input, cuts, options);
  // How far inflate gets into a corrupt gzip stream before it notices depends
  // on how the input is cut; everything else must not.
  const bool corrupt_gzip = gzip && (whole.stream_fault || chunked.stream_fault);
  if (!corrupt_gzip && !(whole == chunked)) std::abort();
  if (!gzip) {
    for (std::size_t i = 0; i < whole.texts.size(); ++i) {
      if (input.substr(whole.offsets[i], whole.texts[i].size()) != whole.texts[i]) std::abort();
      if (whole.texts[i].size() > options.max_record_bytes) std::abort();
    }
  }
  return 0;
}
