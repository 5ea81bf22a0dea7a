#include "base/base64.hpp"

#include <openssl/evp.h>

#include <algorithm>

namespace salesflow::base {

void append_base64(std::string& out, std::string_view value) {
  // EVP_EncodeBlock counts in int: a whole number of 3-byte groups per call
  // keeps the output free of padding until the last one.
  constexpr std::size_t kChunkBytes = std::size_t{3} << 20;
  out.reserve(out.size() + (value.size() + 2) / 3 * 4 + 1);
  while (!value.empty()) {
    const std::size_t take = std::min(value.size(), kChunkBytes);
    const std::size_t start = out.size();
    out.resize(start + (take + 2) / 3 * 4 + 1);  // EVP_EncodeBlock writes a NUL after the text
    const int written = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data() + start),
                                        reinterpret_cast<const unsigned char*>(value.data()),
                                        static_cast<int>(take));
    out.resize(start + static_cast<std::size_t>(written));
    value.remove_prefix(take);
  }
}

}  // namespace salesflow::base
