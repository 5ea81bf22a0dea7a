#include "base/hex.hpp"

namespace salesflow::base {

std::string hex_encode(std::span<const std::uint8_t> bytes) {
  std::string out(bytes.size() * 2, '\0');
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    out[2 * i] = kHexLower[bytes[i] >> 4];
    out[2 * i + 1] = kHexLower[bytes[i] & 0x0f];
  }
  return out;
}

}  // namespace salesflow::base
