#pragma once
// Hex encoding of bytes: digests in SigV4, content hashes, envelope ids, and
// the digit tables percent-encoding and JSON's \u escapes use.
//
// Cost: one allocation of exactly 2 * size bytes and one table lookup per
// nibble; hex_encode is on the per-record path (content hashes).

#include <cstdint>
#include <span>
#include <string>

namespace salesflow::base {

inline constexpr char kHexLower[] = "0123456789abcdef";
inline constexpr char kHexUpper[] = "0123456789ABCDEF";

// `bytes` as lowercase hex, two digits per byte.
[[nodiscard]] std::string hex_encode(std::span<const std::uint8_t> bytes);

}  // namespace salesflow::base
