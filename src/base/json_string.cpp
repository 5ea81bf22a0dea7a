#include "base/json_string.hpp"

#include <array>
#include <cstdint>
#include <cstring>

#include "base/hex.hpp"

namespace salesflow::base {
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
    default:
      out[1] = 'u';
      out[2] = '0';
      out[3] = '0';
      out[4] = kHexLower[c >> 4];
      out[5] = kHexLower[c & 0xF];
      return 6;
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

}  // namespace salesflow::base
