#pragma once
// SHA-256, HMAC-SHA256, MD5 and hex helpers on OpenSSL 3's EVP APIs.

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace salesflow::aws {

using Sha256Digest = std::array<std::uint8_t, 32>;

Sha256Digest sha256(std::string_view data);
std::string sha256_hex(std::string_view data);  // lowercase hex, 64 characters

Sha256Digest hmac_sha256(std::span<const std::uint8_t> key, std::string_view data);
Sha256Digest hmac_sha256(std::string_view key, std::string_view data);

// SQS answers with MD5OfMessageBody; MD5 serves only to check that, never security.
std::string md5_hex(std::string_view data);

std::string hex_encode(std::span<const std::uint8_t> bytes);  // lowercase

}  // namespace salesflow::aws
