#pragma once
// What the record splitters share: the callback interface records and faults
// are handed to, the counter that numbers records, and small byte helpers.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/text.hpp"
#include "core/record.hpp"

namespace salesflow::core {

// Receives the records and faults of one object, in stream order. Both
// callbacks run synchronously inside RecordReader::feed/finish; the views in a
// RawRecord are valid only until the callback returns (copy what you keep).
class RecordHandler {
 public:
  virtual ~RecordHandler() = default;
  virtual void on_record(const RawRecord& record) = 0;
  virtual void on_fault(const FileFault& fault) = 0;
};

// How many bytes of an unparseable range a FileFault quotes.
inline constexpr std::size_t kExcerptBytes = 64;

// Numbers records and forwards them and faults to a handler. One per
// feed/finish call; `records` is the reader's running count.
class Emitter {
 public:
  Emitter(RecordHandler& handler, std::uint64_t& records) : handler_(handler), records_(records) {}

  void record(std::string_view text, std::uint64_t offset, std::uint64_t line) {
    handler_.on_record(RawRecord{text, records_++, offset, line});
  }
  void fault(std::uint64_t begin, std::uint64_t end, ReasonCode code, std::string message,
             std::string_view raw_excerpt);
  std::uint64_t records() const { return records_; }

 private:
  RecordHandler& handler_;
  std::uint64_t& records_;
};

// JSON's four whitespace bytes, for the splitters (base/text.hpp).
using base::is_json_space;

// Bytes a bare (unquoted) scalar is made of: numbers, true, false, null, and
// near misses of them, which the validator then rejects.
constexpr bool is_bare_byte(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '+' ||
         c == '-' || c == '.';
}

// Whether a JSON scalar (string, number, true, false, null) could start with `c`.
constexpr bool may_start_json_scalar(char c) {
  return c == '"' || c == '-' || (c >= '0' && c <= '9') || c == 't' || c == 'f' || c == 'n';
}

// A printable rendering of the first kExcerptBytes of `raw`: valid UTF-8 and
// printable ASCII are kept, line breaks and tabs become spaces, every other
// byte becomes '?'. The result is always valid UTF-8.
std::string make_excerpt(std::string_view raw);

// Appends to `out` the bytes of `raw` still missing from a kExcerptBytes excerpt.
inline void append_excerpt(std::string& out, std::string_view raw) {
  if (out.size() < kExcerptBytes) {
    out.append(raw.substr(0, kExcerptBytes - out.size()));
  }
}

// Whether the JSON string body `escaped` (the bytes between the quotes, escapes
// not yet decoded) decodes to exactly `name`. Invalid escapes never match.
bool json_string_equals(std::string_view escaped, std::string_view name);

}  // namespace salesflow::core
