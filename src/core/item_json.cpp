#include "core/item_json.hpp"

#include <fmt/core.h>

#include <array>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <ctime>

namespace salesflow::core {
namespace {

// 1 for bytes that cannot appear as-is inside a JSON string.
constexpr std::array<bool, 256> make_escape_table() {
  std::array<bool, 256> table{};
  for (int c = 0; c < 0x20; ++c) table[static_cast<std::size_t>(c)] = true;
  table['"'] = true;
  table['\\'] = true;
  return table;
}
constexpr std::array<bool, 256> kNeedsEscape = make_escape_table();

// The escape sequence of a byte that needs one; returns its length (2 or 6).
std::size_t escape_sequence(unsigned char c, char* out) {
  out[0] = '\\';
  switch (c) {
    case '"':
      out[1] = '"';
      return 2;
    case '\\':
      out[1] = '\\';
      return 2;
    case '\n':
      out[1] = 'n';
      return 2;
    case '\r':
      out[1] = 'r';
      return 2;
    case '\t':
      out[1] = 't';
      return 2;
    case '\b':
      out[1] = 'b';
      return 2;
    case '\f':
      out[1] = 'f';
      return 2;
    default: {
      static constexpr char kHex[] = "0123456789abcdef";
      out[1] = 'u';
      out[2] = '0';
      out[3] = '0';
      out[4] = kHex[c >> 4];
      out[5] = kHex[c & 0xF];
      return 6;
    }
  }
}

void append_escape(std::string& out, unsigned char c) {
  char sequence[6];
  out.append(sequence, escape_sequence(c, sequence));
}

// Index of the first byte at or after `from` that needs escaping (or of a
// possible U+FFFE/U+FFFF lead byte when `sqs`), or size. Eight bytes per step:
// a byte b is flagged when b < 0x20, b == '"', b == '\\' (or b == 0xEF).
std::size_t find_special(const char* data, std::size_t size, std::size_t from, bool sqs) {
  constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
  constexpr std::uint64_t kHighs = 0x8080808080808080ULL;
  const auto has_zero = [](std::uint64_t v) { return (v - kOnes) & ~v & kHighs; };
  std::size_t i = from;
  for (; i + 8 <= size; i += 8) {
    std::uint64_t word;
    std::memcpy(&word, data + i, 8);
    // b < 0x20: (b - 0x20) borrows into the high bit for bytes below 0x20
    // (only trusted when the byte's own high bit is clear).
    std::uint64_t flags = (word - 0x2020202020202020ULL) & ~word & kHighs;
    flags |= has_zero(word ^ (kOnes * '"'));
    flags |= has_zero(word ^ (kOnes * '\\'));
    if (sqs) flags |= has_zero(word ^ (kOnes * 0xEF));
    if (flags != 0) break;  // the exact byte is found by the loop below
  }
  for (; i < size; ++i) {
    const auto c = static_cast<unsigned char>(data[i]);
    if (kNeedsEscape[c] || (sqs && c == 0xEF)) return i;
  }
  return size;
}

}  // namespace

void append_json_string(std::string& out, std::string_view value, Escaping escaping) {
  const char* const data = value.data();
  const std::size_t size = value.size();
  const bool sqs = escaping == Escaping::sqs;
  out.reserve(out.size() + size + 2);
  out.push_back('"');
  std::size_t run_start = 0;
  std::size_t i = find_special(data, size, 0, sqs);
  while (i < size) {
    const auto c = static_cast<unsigned char>(data[i]);
    if (kNeedsEscape[c]) {
      out.append(data + run_start, i - run_start);
      append_escape(out, c);
      run_start = i + 1;
    } else if (c == 0xEF && i + 2 < size && static_cast<unsigned char>(data[i + 1]) == 0xBF &&
               (static_cast<unsigned char>(data[i + 2]) & 0xFE) == 0xBE) {
      out.append(data + run_start, i - run_start);
      out += (static_cast<unsigned char>(data[i + 2]) == 0xBE) ? "\\ufffe" : "\\uffff";
      i += 2;
      run_start = i + 1;
    }
    i = find_special(data, size, i + 1, sqs);
  }
  out.append(data + run_start, size - run_start);
  out.push_back('"');
}

char* write_json_string(char* out, std::string_view value) {
  const char* const data = value.data();
  const std::size_t size = value.size();
  *out++ = '"';
  std::size_t run_start = 0;
  std::size_t i = find_special(data, size, 0, false);
  while (i < size) {
    std::memcpy(out, data + run_start, i - run_start);
    out += i - run_start;
    out += escape_sequence(static_cast<unsigned char>(data[i]), out);
    run_start = i + 1;
    i = find_special(data, size, run_start, false);
  }
  if (size > run_start) {
    std::memcpy(out, data + run_start, size - run_start);
    out += size - run_start;
  }
  *out++ = '"';
  return out;
}

void append_decimal(std::string& out, unsigned long long value) {
  char buffer[24];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
  out.append(buffer, result.ptr);
}

void append_base64(std::string& out, std::string_view value) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(value[i]); };
  std::size_t i = 0;
  out.reserve(out.size() + (value.size() + 2) / 3 * 4);
  for (; i + 3 <= value.size(); i += 3) {
    const unsigned bits = (byte(i) << 16) | (byte(i + 1) << 8) | byte(i + 2);
    const char quad[4] = {kAlphabet[(bits >> 18) & 63], kAlphabet[(bits >> 12) & 63],
                          kAlphabet[(bits >> 6) & 63], kAlphabet[bits & 63]};
    out.append(quad, 4);
  }
  const std::size_t rest = value.size() - i;
  if (rest == 1) {
    const unsigned bits = byte(i) << 16;
    const char quad[4] = {kAlphabet[(bits >> 18) & 63], kAlphabet[(bits >> 12) & 63], '=', '='};
    out.append(quad, 4);
  } else if (rest == 2) {
    const unsigned bits = (byte(i) << 16) | (byte(i + 1) << 8);
    const char quad[4] = {kAlphabet[(bits >> 18) & 63], kAlphabet[(bits >> 12) & 63],
                          kAlphabet[(bits >> 6) & 63], '='};
    out.append(quad, 4);
  }
}

namespace {

bool continuation(unsigned char byte) {
  return (byte & 0xC0) == 0x80;
}

// Length of the well-formed UTF-8 sequence at the start of `text`, or 0
// (Unicode Table 3-7: no overlongs, no surrogates, nothing past U+10FFFF).
std::size_t sequence_length(std::string_view text) {
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
  const unsigned char lead = byte(0);
  if (lead < 0x80) return 1;
  std::size_t length = 0;
  unsigned char low = 0x80;
  unsigned char high = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0) low = 0xA0;
    if (lead == 0xED) high = 0x9F;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0) low = 0x90;
    if (lead == 0xF4) high = 0x8F;
  } else {
    return 0;
  }
  if (text.size() < length) return 0;
  if (byte(1) < low || byte(1) > high) return 0;
  for (std::size_t i = 2; i < length; ++i) {
    if (!continuation(byte(i))) return 0;
  }
  return length;
}

}  // namespace

std::string to_valid_utf8(std::string_view text) {
  std::string result;
  result.reserve(text.size());
  while (!text.empty()) {
    const std::size_t length = sequence_length(text);
    if (length == 0) {
      result += "\xEF\xBF\xBD";  // U+FFFD REPLACEMENT CHARACTER
      text.remove_prefix(1);
    } else {
      result.append(text.substr(0, length));
      text.remove_prefix(length);
    }
  }
  return result;
}

std::string iso8601_utc_ms(std::int64_t unix_ms) {
  std::int64_t seconds = unix_ms / 1000;
  std::int64_t millis = unix_ms % 1000;
  if (millis < 0) {
    millis += 1000;
    --seconds;
  }
  const std::time_t time = static_cast<std::time_t>(seconds);
  std::tm utc{};
  gmtime_r(&time, &utc);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", utc.tm_year + 1900,
                     utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec, millis);
}

}  // namespace salesflow::core
