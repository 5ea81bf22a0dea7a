// Record splitting throughput: JSON Lines, arrays, concatenated pretty-printed
// documents and gzip through
// RecordReader, next to simdjson over the same bytes; and the peak memory of
// streaming a 2 GB array.

#include <benchmark/benchmark.h>
#include <simdjson.h>
#include <sys/resource.h>
#include <zlib.h>

#include <cstdint>
#include <stdexcept>
#include <string>

#include "core/reader.hpp"

namespace {

using salesflow::core::FileFault;
using salesflow::core::RawRecord;
using salesflow::core::ReaderOptions;
using salesflow::core::RecordHandler;
using salesflow::core::RecordReader;

constexpr std::size_t kChunkBytes = 1 << 20;
constexpr std::size_t kDataBytes = 64 << 20;

// A ~1 KB sales record with nested objects, arrays and escapes.
std::string make_record(std::uint64_t n) {
  std::string items;
  for (int i = 0; i < 6; ++i) {
    items += (i ? "," : "") + std::string(R"({"Sku":"SKU-)") + std::to_string(n * 7 + i) +
             R"(","Quantity":)" + std::to_string(i + 1) + R"(,"UnitPrice":")" +
             std::to_string(10 + i) + R"(.99","Tags":["a","b\"c","{d}"]})";
  }
  std::string record =
      R"({"order-info":{"OrderId":"ORD-)" + std::to_string(n) +
      R"(","OrderDate":"2024-05-01T12:00:00Z","Items":[)" + items +
      R"(],"Total":"123.45","Currency":"EUR"},"contact-info":{"Name":"Zoë O'Brien",)"
      R"("Email":"zoe@example.com","Phone":"+353 1 234 5678","Address":{"Street":)"
      R"("1 Main St","City":"Dublin","Country":"IE"}},"notes":"path C:\\temp [x] )";
  while (record.size() < 1000) record += "lorem ipsum ";
  return record + "\"}";
}

std::string make_json_lines(std::size_t bytes) {
  std::string out;
  for (std::uint64_t n = 0; out.size() < bytes; ++n) out += make_record(n) + "\n";
  return out;
}

std::string make_array(std::size_t bytes) {
  std::string out = "[\n";
  for (std::uint64_t n = 0; out.size() < bytes; ++n) out += (n ? ",\n" : "") + make_record(n);
  return out + "\n]\n";
}

// `record` as `jq .` prints it: two-space indentation, one member or element
// per line, ": " after names. (The records have no empty containers.)
std::string jq_pretty(const std::string& record) {
  std::string out;
  std::size_t depth = 0;
  bool in_string = false;
  bool escape = false;
  const auto newline = [&] { out += '\n' + std::string(2 * depth, ' '); };
  for (const char c : record) {
    if (in_string) {
      out += c;
      in_string = escape || c != '"';
      escape = !escape && c == '\\';
    } else if (c == '{' || c == '[') {
      out += c;
      ++depth;
      newline();
    } else if (c == '}' || c == ']') {
      --depth;
      newline();
      out += c;
    } else if (c == ',') {
      out += c;
      newline();
    } else if (c == ':') {
      out += ": ";
    } else {
      out += c;
      in_string = c == '"';
    }
  }
  return out;
}

std::string make_concatenated(std::size_t bytes) {
  std::string out;
  for (std::uint64_t n = 0; out.size() < bytes; ++n) out += jq_pretty(make_record(n)) + "\n";
  return out;
}

std::string gzip(const std::string& data) {
  z_stream stream{};
  deflateInit2(&stream, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&stream, data.size()), '\0');
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  stream.avail_in = static_cast<uInt>(data.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  if (deflate(&stream, Z_FINISH) != Z_STREAM_END) throw std::runtime_error("deflate");
  out.resize(stream.total_out);
  deflateEnd(&stream);
  return out;
}

class Counter final : public RecordHandler {
 public:
  void on_record(const RawRecord& record) override {
    ++records;
    bytes += record.text.size();
  }
  void on_fault(const FileFault&) override { ++faults; }
  std::uint64_t records = 0;
  std::uint64_t bytes = 0;
  std::uint64_t faults = 0;
};

Counter split(const std::string& input) {
  Counter counter;
  RecordReader reader;
  for (std::size_t pos = 0; pos < input.size(); pos += kChunkBytes) {
    reader.feed(std::string_view(input).substr(pos, kChunkBytes), counter);
  }
  reader.finish(counter);
  return counter;
}

void report(benchmark::State& state, std::size_t bytes, const Counter& counter) {
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes));
  state.counters["records"] = static_cast<double>(counter.records);
  if (counter.faults != 0) state.SkipWithError("unexpected faults");
}

const std::string& json_lines() {
  static const std::string data = make_json_lines(kDataBytes);
  return data;
}
const std::string& array() {
  static const std::string data = make_array(kDataBytes);
  return data;
}
const std::string& concatenated() {
  static const std::string data = make_concatenated(kDataBytes);
  return data;
}

void BM_SplitJsonLines(benchmark::State& state) {
  const std::string& input = json_lines();
  Counter counter;
  for (auto _ : state) benchmark::DoNotOptimize(counter = split(input));
  report(state, input.size(), counter);
}
BENCHMARK(BM_SplitJsonLines)->Unit(benchmark::kMillisecond);

void BM_SplitArray(benchmark::State& state) {
  const std::string& input = array();
  Counter counter;
  for (auto _ : state) benchmark::DoNotOptimize(counter = split(input));
  report(state, input.size(), counter);
}
BENCHMARK(BM_SplitArray)->Unit(benchmark::kMillisecond);

// The same records as `jq .` prints them, one document after another (the
// bytes are ~1.5x as many: indentation and line breaks).
void BM_SplitConcatenated(benchmark::State& state) {
  const std::string& input = concatenated();
  Counter counter;
  for (auto _ : state) benchmark::DoNotOptimize(counter = split(input));
  report(state, input.size(), counter);
}
BENCHMARK(BM_SplitConcatenated)->Unit(benchmark::kMillisecond);

// Bytes processed are decompressed bytes; the compressed rate is in counters.
void BM_SplitGzipJsonLines(benchmark::State& state) {
  const std::string& plain = json_lines();
  const std::string compressed = gzip(plain);
  Counter counter;
  for (auto _ : state) benchmark::DoNotOptimize(counter = split(compressed));
  report(state, plain.size(), counter);
  state.counters["compressed_bytes_per_second"] =
      benchmark::Counter(static_cast<double>(compressed.size()),
                         benchmark::Counter::kIsRate | benchmark::Counter::kIsIterationInvariant);
}
BENCHMARK(BM_SplitGzipJsonLines)->Unit(benchmark::kMillisecond);

// simdjson over the same JSON Lines: iterate_many finds each document (stage
// 1 indexes every structural byte), raw_json walks it.
void BM_SimdjsonIterateManyJsonLines(benchmark::State& state) {
  const simdjson::padded_string input(json_lines());
  simdjson::ondemand::parser parser;
  std::uint64_t records = 0;
  for (auto _ : state) {
    records = 0;
    simdjson::ondemand::document_stream stream;
    if (parser.iterate_many(input, 1 << 20).get(stream)) state.SkipWithError("iterate_many");
    for (auto document : stream) {
      simdjson::ondemand::object object;
      std::string_view raw;
      if (document.get_object().get(object) || object.raw_json().get(raw)) {
        state.SkipWithError("raw_json");
      }
      benchmark::DoNotOptimize(raw);
      ++records;
    }
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * input.size()));
  state.counters["records"] = static_cast<double>(records);
}
BENCHMARK(BM_SimdjsonIterateManyJsonLines)->Unit(benchmark::kMillisecond);

// simdjson On Demand over the same array, taking each element's raw text.
void BM_SimdjsonOndemandArray(benchmark::State& state) {
  const simdjson::padded_string input(array());
  simdjson::ondemand::parser parser(input.size() + 64);
  std::uint64_t records = 0;
  for (auto _ : state) {
    records = 0;
    simdjson::ondemand::document document;
    if (parser.iterate(input).get(document)) state.SkipWithError("iterate");
    for (auto element : document.get_array()) {
      simdjson::ondemand::object object;
      std::string_view raw;
      if (element.get_object().get(object) || object.raw_json().get(raw)) {
        state.SkipWithError("raw_json");
      }
      benchmark::DoNotOptimize(raw);
      ++records;
    }
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * input.size()));
  state.counters["records"] = static_cast<double>(records);
}
BENCHMARK(BM_SimdjsonOndemandArray)->Unit(benchmark::kMillisecond);

// simdjson's DOM API (runtime-dispatched kernels, e.g. haswell) fully parses
// every record of the same JSON Lines.
void BM_SimdjsonDomParseManyJsonLines(benchmark::State& state) {
  const simdjson::padded_string input(json_lines());
  simdjson::dom::parser parser;
  std::uint64_t records = 0;
  for (auto _ : state) {
    records = 0;
    simdjson::dom::document_stream stream;
    if (parser.parse_many(input, 1 << 20).get(stream)) state.SkipWithError("parse_many");
    for (auto document : stream) {
      benchmark::DoNotOptimize(document);
      ++records;
    }
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * input.size()));
  state.counters["records"] = static_cast<double>(records);
  state.SetLabel(simdjson::get_active_implementation()->name());
}
BENCHMARK(BM_SimdjsonDomParseManyJsonLines)->Unit(benchmark::kMillisecond);

// simdjson's DOM API parsing the whole array as one document.
void BM_SimdjsonDomParseArray(benchmark::State& state) {
  const simdjson::padded_string input(array());
  simdjson::dom::parser parser;
  for (auto _ : state) {
    simdjson::dom::element root;
    if (parser.parse(input).get(root)) state.SkipWithError("parse");
    benchmark::DoNotOptimize(root);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * input.size()));
}
BENCHMARK(BM_SimdjsonDomParseArray)->Unit(benchmark::kMillisecond);

long peak_rss_kib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss;
}

// Streams a 2 GiB array generated on the fly in 1 MiB chunks and reports the
// process's peak RSS. Run it alone (--benchmark_filter=PeakRss) so the other
// benchmarks' data does not count.
void BM_StreamArrayPeakRss(benchmark::State& state) {
  constexpr std::uint64_t kTotal = std::uint64_t{2} << 30;
  // The stream after "[<record>" is ",\n<record>" repeated forever; `period` is
  // whole records of it, just over a chunk long, and `twice` lets any chunk of
  // the endless repetition be a view. Chunks are exactly 1 MiB, so records
  // straddle chunk boundaries.
  std::string period;
  for (std::uint64_t n = 1; period.size() < kChunkBytes; ++n) period += ",\n" + make_record(n);
  const std::string twice = period + period;
  const std::string record = make_record(0);
  Counter counter;
  for (auto _ : state) {
    counter = Counter{};
    RecordReader reader;
    reader.feed("[\n" + record, counter);
    std::uint64_t fed = 0;
    for (; fed < kTotal; fed += kChunkBytes) {
      reader.feed(std::string_view(twice).substr(fed % period.size(), kChunkBytes), counter);
    }
    // Complete the record the last chunk cut, then close the array.
    const std::size_t cut = fed % period.size();
    const std::size_t record_end = period.find(",\n", cut);
    reader.feed(std::string_view(period).substr(cut, record_end - cut), counter);
    reader.feed("\n]\n", counter);
    reader.finish(counter);
    state.counters["faults"] = static_cast<double>(counter.faults);
    state.SetBytesProcessed(static_cast<std::int64_t>(fed));
  }
  state.counters["records"] = static_cast<double>(counter.records);
  state.counters["peak_rss_MiB"] = static_cast<double>(peak_rss_kib()) / 1024.0;
}
BENCHMARK(BM_StreamArrayPeakRss)->Iterations(1)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
