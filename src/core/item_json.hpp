#pragma once
// JSON text output shared by the DynamoDB item encoder and the DLQ envelope:
// string escaping and DynamoDB's item size constants.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace salesflow::core {

// DynamoDB's maximum item size (400 KB), in the bytes its size rules count.
inline constexpr std::size_t kDynamoMaxItemBytes = 400 * 1024;
// DynamoDB allows documents nested at most 32 levels deep.
inline constexpr int kDynamoMaxNestingDepth = 32;
// Key attribute value limits: partition key 2048 bytes, sort key 1024 bytes.
inline constexpr std::size_t kDynamoMaxPartitionKeyBytes = 2048;
inline constexpr std::size_t kDynamoMaxSortKeyBytes = 1024;

enum class Escaping {
  json,  // RFC 8259 minimum: quote, backslash and control characters
  // Also escapes U+FFFE and U+FFFF: valid UTF-8 and valid JSON, but outside the
  // character set an SQS message body may contain.
  sqs,
};

// Appends `value` (valid UTF-8) as a quoted JSON string. Copies runs of plain
// bytes with one append each; O(value.size()).
void append_json_string(std::string& out, std::string_view value,
                        Escaping escaping = Escaping::json);

// Writes `value` (valid UTF-8) as a quoted JSON string (Escaping::json) at
// `out` and returns the end of what was written. `out` must have room for
// json_string_bound(value.size()) bytes. For encoders that write into a
// pre-sized buffer instead of appending to a std::string.
char* write_json_string(char* out, std::string_view value);

// The most bytes write_json_string writes for a value of `size` bytes: two
// quotes and at most six bytes (\u001f) per input byte.
constexpr std::size_t json_string_bound(std::size_t size) {
  return 6 * size + 2;
}

// `text` with each byte sequence that is not well-formed UTF-8 replaced by
// U+FFFD, so it can go into a JSON string (log lines, envelope messages that
// quote input). O(text.size()).
std::string to_valid_utf8(std::string_view text);

// "2026-11-25T13:25:27.026Z" for a time in milliseconds since the epoch
// (items' ingestion time, log lines).
std::string iso8601_utc_ms(std::int64_t unix_ms);

// Appends the decimal text of `value`.
void append_decimal(std::string& out, unsigned long long value);

// Appends `value` as standard base64 (RFC 4648, with padding).
void append_base64(std::string& out, std::string_view value);

}  // namespace salesflow::core
