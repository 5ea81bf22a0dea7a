#pragma once
// Byte-level text helpers every layer needs: JSON's whitespace bytes, trimming
// them, ASCII case folding, the value of a hex digit, and an ETag without its
// quotes.
//
// Cost: all constexpr and header-only; O(1) per byte looked at, no allocation
// (the results are views into the argument).

#include <cstddef>
#include <string_view>

namespace salesflow::base {

// JSON's four whitespace bytes (RFC 8259): space, tab, LF, CR. Also what HTTP
// header lines and the AWS config files are trimmed of.
[[nodiscard]] constexpr bool is_json_space(char c) noexcept {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

// `text` without leading and trailing is_json_space bytes.
[[nodiscard]] constexpr std::string_view trim(std::string_view text) noexcept {
  while (!text.empty() && is_json_space(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_json_space(text.back())) text.remove_suffix(1);
  return text;
}

// `c` with A-Z mapped to a-z; every other byte as it is (no locale).
[[nodiscard]] constexpr char ascii_lower(char c) noexcept {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

// Whether `a` and `b` are equal but for ASCII case (HTTP header names).
[[nodiscard]] constexpr bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  }
  return true;
}

// The value of the hex digit `c` (0-9, a-f, A-F), or -1 for any other byte.
[[nodiscard]] constexpr int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// An ETag without its surrounding double quotes: S3 answers with them quoted,
// notifications carry them bare. Any other text is returned as it is.
[[nodiscard]] constexpr std::string_view strip_etag_quotes(std::string_view etag) noexcept {
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') {
    etag = etag.substr(1, etag.size() - 2);
  }
  return etag;
}

}  // namespace salesflow::base
