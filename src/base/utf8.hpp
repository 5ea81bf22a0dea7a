#pragma once
// UTF-8 well-formedness (Unicode's Table 3-7: no overlongs, no surrogates,
// nothing past U+10FFFF) for text that quotes input: log lines, envelope
// messages, fault excerpts.
//
// Cost: O(text.size()), one byte at a time; for messages and excerpts, not for
// whole records (simdjson's stage 1 validates those).

#include <cstddef>
#include <string>
#include <string_view>

namespace salesflow::base {

// The length (1-4) of the well-formed UTF-8 sequence that starts `text`, or 0
// when it does not start with one (or is empty).
[[nodiscard]] std::size_t utf8_sequence_length(std::string_view text) noexcept;

// `text` with each byte of a sequence that is not well-formed UTF-8 replaced
// by U+FFFD, so it can go into a JSON string.
[[nodiscard]] std::string to_valid_utf8(std::string_view text);

}  // namespace salesflow::base
