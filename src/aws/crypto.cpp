#include "aws/crypto.hpp"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <cstdio>
#include <cstdlib>
#include <memory>

namespace salesflow::aws {
namespace {

// Explicitly fetched algorithms, resolved once: the implicit fetch behind
// EVP_sha256() repeats a provider lookup on every EVP_DigestInit_ex call.
// The pointers never change after initialisation (immutable, thread-safe).
const EVP_MD* sha256_md() {
  static const EVP_MD* const md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  return md;
}

const EVP_MD* md5_md() {
  static const EVP_MD* const md = EVP_MD_fetch(nullptr, "MD5", nullptr);
  return md;
}

EVP_MAC* hmac_mac() {
  static EVP_MAC* const mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  return mac;
}

struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};
struct MacCtxDeleter {
  void operator()(EVP_MAC_CTX* ctx) const { EVP_MAC_CTX_free(ctx); }
};

// OpenSSL fails here only on allocation failure or a missing default provider;
// both are unrecoverable faults of the process, so there is no error value to return.
[[noreturn]] void crypto_failure(const char* what) {
  std::fprintf(stderr, "salesflow: OpenSSL failure in %s\n", what);
  std::abort();
}

template <std::size_t N>
std::array<std::uint8_t, N> digest(const EVP_MD* md, std::string_view data) {
  std::array<std::uint8_t, N> out{};
  unsigned int length = 0;
  if (md == nullptr ||
      EVP_Digest(data.data(), data.size(), out.data(), &length, md, nullptr) != 1 || length != N) {
    crypto_failure("digest");
  }
  return out;
}

}  // namespace

std::string hex_encode(std::span<const std::uint8_t> bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(bytes.size() * 2, '\0');
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    out[2 * i] = kDigits[bytes[i] >> 4];
    out[2 * i + 1] = kDigits[bytes[i] & 0x0f];
  }
  return out;
}

Sha256Digest sha256(std::string_view data) {
  return digest<32>(sha256_md(), data);
}

std::string sha256_hex(std::string_view data) {
  return hex_encode(sha256(data));
}

std::string md5_hex(std::string_view data) {
  return hex_encode(digest<16>(md5_md(), data));
}

Sha256Digest hmac_sha256(std::span<const std::uint8_t> key, std::string_view data) {
  EVP_MAC* const mac = hmac_mac();
  if (mac == nullptr) crypto_failure("HMAC fetch");
  const std::unique_ptr<EVP_MAC_CTX, MacCtxDeleter> ctx(EVP_MAC_CTX_new(mac));
  if (!ctx) crypto_failure("HMAC context");
  char digest_name[] = "SHA256";
  const OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest_name, 0),
      OSSL_PARAM_construct_end()};
  Sha256Digest out{};
  std::size_t length = 0;
  if (EVP_MAC_init(ctx.get(), key.data(), key.size(), params) != 1 ||
      EVP_MAC_update(ctx.get(), reinterpret_cast<const unsigned char*>(data.data()), data.size()) !=
          1 ||
      EVP_MAC_final(ctx.get(), out.data(), &length, out.size()) != 1 || length != out.size()) {
    crypto_failure("HMAC");
  }
  return out;
}

Sha256Digest hmac_sha256(std::string_view key, std::string_view data) {
  return hmac_sha256(
      std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(key.data()), key.size()),
      data);
}

}  // namespace salesflow::aws
