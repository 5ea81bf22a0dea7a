#pragma once
// Message digests on OpenSSL 3's EVP API: SHA-256 (SigV4 payload hashes,
// content hashes of items, envelope ids), HMAC-SHA256 (SigV4 signing keys and
// signatures) and MD5 (only to check SQS's MD5OfMessageBody, never security).
//
// Cost: the algorithms are fetched once per process; a call is one EVP digest,
// ~0.6 µs for 1,000 bytes of SHA-256 with SHA-NI, ~0.3 µs for an HMAC of a
// short message (bench/README.md). No allocation but the hex strings.
// OpenSSL fails here only without memory or a default provider: the process
// aborts with a message (there is no error to return).

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace salesflow::base {

using Sha256Digest = std::array<std::uint8_t, 32>;

[[nodiscard]] Sha256Digest sha256(std::string_view data);
[[nodiscard]] std::string sha256_hex(std::string_view data);  // lowercase hex, 64 characters

[[nodiscard]] Sha256Digest hmac_sha256(std::span<const std::uint8_t> key, std::string_view data);
[[nodiscard]] Sha256Digest hmac_sha256(std::string_view key, std::string_view data);

[[nodiscard]] std::string md5_hex(std::string_view data);  // lowercase hex, 32 characters

}  // namespace salesflow::base
