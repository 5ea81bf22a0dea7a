// Throughput of record validation + DynamoDB item encoding on ~1 KB sales
// records held in memory, against simdjson's own traversal speed.
#include <benchmark/benchmark.h>
#include <fmt/format.h>
#include <simdjson.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "core/object_validator.hpp"
#include "core/reader.hpp"

namespace {

using namespace salesflow::core;

// A JSON Lines object of `count` records of about 1 KB each.
std::string make_jsonl(std::size_t count) {
  std::string out;
  for (std::size_t i = 0; i < count; ++i) {
    std::string lines;
    for (int l = 0; l < 4; ++l) {
      if (l) lines += ',';
      lines += fmt::format(
          R"({{"sku":"SKU-{:06}-{}","description":"Stainless steel water bottle, 750 ml","quantity":{},"unit_price":{}.{:02},"discount":0.05,"tags":["outdoor","kitchen"]}})",
          (i * 7 + l) % 1000000, l, 1 + (i + l) % 9, 3 + (i * 13 + l) % 200, (i + l) % 100);
    }
    out += fmt::format(
        R"({{"order-info":{{"OrderId":"ORD-{:010}","placed_at":"2024-05-01T12:{:02}:{:02}Z","channel":"web","currency":"EUR","total":{}.{:02},"lines":[{}],"paid":true,"coupon":null}},"contact-info":{{"email":"customer{}@example.com","phone":"+49 30 {:07}","name":"Jörg Müller","address":{{"street":"Hauptstraße {}","city":"Berlin","zip":"10{:03}","country":"DE"}}}},"notes":"Leave the parcel with the neighbour \"next door\" if nobody is at home."}})",
        i, i % 60, (i * 7) % 60, 10 + i % 900, i % 100, lines, i, i % 10000000, 1 + i % 200,
        i % 1000);
    out += '\n';
  }
  return out;
}

const std::string& corpus() {
  static const std::string text = make_jsonl(20000);
  return text;
}

const std::vector<std::string_view>& records() {
  static const std::vector<std::string_view> split = [] {
    std::vector<std::string_view> result;
    std::string_view rest = corpus();
    while (!rest.empty()) {
      const auto end = rest.find('\n');
      result.push_back(rest.substr(0, end));
      rest.remove_prefix(end + 1);
    }
    return result;
  }();
  return split;
}

Provenance bench_provenance() {
  return Provenance{"sales-bucket", "incoming/2024/05/01/orders.jsonl",
                    "\"d41d8cd98f00b204e9800998ecf8427e\"", "", "2024-05-01T12:00:00Z", ""};
}

void set_counters(benchmark::State& state) {
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * corpus().size()));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * records().size()));
}

// simdjson reference: iterate each record and visit every value, doing nothing.
std::size_t visit(simdjson::ondemand::value value) {
  using simdjson::ondemand::json_type;
  json_type type;
  if (value.type().get(type)) return 0;
  std::size_t count = 1;
  if (type == json_type::object) {
    for (auto field : value.get_object()) count += visit(field.value());
  } else if (type == json_type::array) {
    for (auto element : value.get_array()) count += visit(element.value());
  } else if (type == json_type::string) {
    std::string_view text;
    if (value.get_string().get(text)) return count;
    benchmark::DoNotOptimize(text);
  } else {
    (void)value.raw_json_token();
  }
  return count;
}

void BM_SimdjsonIterateAndVisit(benchmark::State& state) {
  simdjson::ondemand::parser parser;
  std::vector<simdjson::padded_string> padded;
  for (const auto record : records()) padded.emplace_back(record);
  for (auto _ : state) {
    std::size_t values = 0;
    for (const auto& record : padded) {
      auto doc = parser.iterate(record);
      simdjson::ondemand::object object;
      if (doc.get_object().get(object)) continue;
      for (auto field : object) values += visit(field.value());
    }
    benchmark::DoNotOptimize(values);
  }
  set_counters(state);
}
BENCHMARK(BM_SimdjsonIterateAndVisit)->Unit(benchmark::kMillisecond);

void BM_Utf8Validate(benchmark::State& state) {
  for (auto _ : state)
    benchmark::DoNotOptimize(simdjson::validate_utf8(corpus().data(), corpus().size()));
  set_counters(state);
}
BENCHMARK(BM_Utf8Validate)->Unit(benchmark::kMillisecond);

// RecordValidator::check under `rules` on every pre-split record.
void validate_encode(benchmark::State& state, const Rules& rules) {
  RecordValidator validator(rules);
  const Provenance provenance = bench_provenance();
  std::uint64_t index = 0;
  for (auto _ : state) {
    std::size_t valid = 0;
    for (const auto record : records())
      valid += validator.check(RawRecord{record, index++, 0, 0}, provenance).valid ? 1 : 0;
    if (valid != records().size()) state.SkipWithError("a benchmark record was rejected");
  }
  set_counters(state);
}

void BM_ValidateEncode(benchmark::State& state) {
  validate_encode(state, Rules::defaults());
}
BENCHMARK(BM_ValidateEncode)->Unit(benchmark::kMillisecond);

// The defaults plus four patterns every record is matched against (the same
// syntax for ECMAScript and RE2), to see what the regex engine costs.
Rules pattern_rules() {
  auto rules = Rules::from_toml_string(R"(
[[field]]
path = "/order-info/OrderId"
types = ["string"]
pattern = 'ORD-[0-9]{10}'
[[field]]
path = "/order-info/placed_at"
required = true
types = ["string"]
pattern = '[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z'
[[field]]
path = "/contact-info/email"
types = ["string"]
non_empty = true
pattern = '[^@\s]+@[^@\s]+\.[^@\s]+'
[[field]]
path = "/contact-info/phone"
types = ["string"]
non_empty = true
pattern = '\+[0-9][0-9 ]*'
)",
                                       "bench-patterns.toml");
  if (!rules) throw std::runtime_error(rules.error());
  return *rules;
}

void BM_ValidateEncodePatterns(benchmark::State& state) {
  validate_encode(state, pattern_rules());
}
BENCHMARK(BM_ValidateEncodePatterns)->Unit(benchmark::kMillisecond);

class Counting : public RecordHandler {
 public:
  void on_record(const RawRecord&) override { ++records; }
  void on_fault(const FileFault&) override { ++faults; }
  std::size_t records = 0, faults = 0;
};

class Validating : public RecordHandler {
 public:
  explicit Validating(RecordValidator& validator) : validator_(validator) {}
  void on_record(const RawRecord& record) override {
    valid += validator_.check(record, provenance_).valid ? 1 : 0;
  }
  void on_fault(const FileFault&) override { ++faults; }
  std::size_t valid = 0, faults = 0;

 private:
  RecordValidator& validator_;
  Provenance provenance_ = bench_provenance();
};

class Deciding : public RecordHandler {
 public:
  explicit Deciding(RecordValidator& validator) : object_(validator, bench_provenance()) {}
  void on_record(const RawRecord& record) override {
    written += object_.check(record).value() == Disposition::write ? 1 : 0;
  }
  void on_fault(const FileFault&) override { ++faults; }
  std::size_t written = 0, faults = 0;

 private:
  ObjectValidator object_;
};

// The same records as one JSON array, for the array splitter.
const std::string& array_corpus() {
  static const std::string text = [] {
    std::string out = "[";
    for (const auto record : records()) {
      if (out.size() > 1) out += ",\n";
      out += record;
    }
    out += "]\n";
    return out;
  }();
  return text;
}

template <typename Handler>
void feed_all(Handler& handler, const std::string& text = corpus()) {
  RecordReader reader;
  constexpr std::size_t kChunk = 1 << 20;
  std::string_view rest = text;
  while (!rest.empty()) {
    const std::size_t n = std::min(kChunk, rest.size());
    reader.feed(rest.substr(0, n), handler);
    rest.remove_prefix(n);
  }
  reader.finish(handler);
}

void BM_SplitOnly(benchmark::State& state) {
  for (auto _ : state) {
    Counting handler;
    feed_all(handler);
    if (handler.records != records().size()) state.SkipWithError("split count mismatch");
  }
  set_counters(state);
}
BENCHMARK(BM_SplitOnly)->Unit(benchmark::kMillisecond);

void BM_SplitValidateEncode(benchmark::State& state) {
  RecordValidator validator(Rules::defaults());
  for (auto _ : state) {
    Validating handler(validator);
    feed_all(handler);
    if (handler.valid != records().size()) state.SkipWithError("a benchmark record was rejected");
  }
  set_counters(state);
}
BENCHMARK(BM_SplitValidateEncode)->Unit(benchmark::kMillisecond);

void BM_SplitArrayValidateEncode(benchmark::State& state) {
  RecordValidator validator(Rules::defaults());
  for (auto _ : state) {
    Validating handler(validator);
    feed_all(handler, array_corpus());
    if (handler.valid != records().size()) state.SkipWithError("a benchmark record was rejected");
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * array_corpus().size()));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * records().size()));
}
BENCHMARK(BM_SplitArrayValidateEncode)->Unit(benchmark::kMillisecond);

void BM_SplitValidateEncodeDedup(benchmark::State& state) {
  RecordValidator validator(Rules::defaults());
  for (auto _ : state) {
    Deciding handler(validator);
    feed_all(handler);
    if (handler.written != records().size()) state.SkipWithError("a benchmark record was rejected");
  }
  set_counters(state);
}
BENCHMARK(BM_SplitValidateEncodeDedup)->Unit(benchmark::kMillisecond);

void BM_DuplicateTrackerOnly(benchmark::State& state) {
  for (auto _ : state) {
    DuplicateTracker tracker;
    for (const auto record : records())
      benchmark::DoNotOptimize(tracker.observe(record.substr(20, 14), record));
  }
  set_counters(state);
}
BENCHMARK(BM_DuplicateTrackerOnly)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
