#pragma once
// What the record splitters share: small byte helpers and the excerpt a
// FileFault quotes. The splitters hand records and faults to an Emitter
// (core/detail/emitter.hpp), declared here so their headers need no more.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/text.hpp"

namespace salesflow::core {

class Emitter;

// How many bytes of an unparseable range a FileFault quotes.
inline constexpr std::size_t kExcerptBytes = 64;

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
