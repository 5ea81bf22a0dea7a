#pragma once
// JSON string output: the escaping of the DynamoDB item encoder, the DLQ
// envelope, the ledger and the fatal line.
//
// Cost: O(value.size()), on the per-record path. Eight bytes are scanned per
// step for the bytes that need an escape; runs of plain bytes are copied with
// one append (or memcpy) each, so a string without escapes costs one scan and
// one copy.

#include <cstddef>
#include <string>
#include <string_view>

namespace salesflow::base {

enum class Escaping {
  json,  // RFC 8259 minimum: quote, backslash and control characters
  // Also escapes U+FFFE and U+FFFF: valid UTF-8 and valid JSON, but outside the
  // character set an SQS message body may contain.
  sqs,
};

// Appends `value` (valid UTF-8) as a quoted JSON string.
void append_json_string(std::string& out, std::string_view value,
                        Escaping escaping = Escaping::json);

// Writes `value` (valid UTF-8) as a quoted JSON string (Escaping::json) at
// `out` and returns the end of what was written. `out` must have room for
// json_string_bound(value.size()) bytes. For encoders that write into a
// pre-sized buffer instead of appending to a std::string.
[[nodiscard]] char* write_json_string(char* out, std::string_view value);

// The most bytes write_json_string writes for a value of `size` bytes: two
// quotes and at most six bytes (\u001f) per input byte.
[[nodiscard]] constexpr std::size_t json_string_bound(std::size_t size) {
  return 6 * size + 2;
}

}  // namespace salesflow::base
