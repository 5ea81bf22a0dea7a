#pragma once
// AWS Signature Version 4 (header-signed requests and presigned URLs).

#include <array>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "aws/credentials.hpp"
#include "aws/http_request.hpp"

namespace salesflow::aws {

struct SigningScope {
  std::string region;   // "us-east-1"
  std::string service;  // signing name: "s3", "dynamodb", "sqs", "sts"
};

struct SigningOptions {
  // S3 signs the payload hash into an x-amz-content-sha256 header and does not
  // normalise the path; the other services do the opposite.
  bool s3 = false;
  bool unsigned_payload = false;  // S3 only: "UNSIGNED-PAYLOAD"

  // Overrides of what `s3` implies (the AWS signing test suite sets them per case).
  std::optional<bool> normalize_path;         // default: !s3
  std::optional<bool> content_sha256_header;  // default: s3; header-signed form only
  // Sign without the session token, then add it to the request unsigned
  // (what a few services, e.g. IoT, expect).
  bool omit_session_token = false;
  // The payload's SHA-256 in lowercase hex when the caller already has it
  // (e.g. computed while streaming); empty: hash `request.body`.
  std::string payload_hash;
};

// The intermediate artifacts of one signature, for tests and debugging. They
// hold no secret (the session token can appear in the canonical request, so
// never log a trace of a request signed with temporary credentials).
struct SigningTrace {
  std::string canonical_request;
  std::string string_to_sign;
  std::string signature;
};

// Remembers derived signing keys per (secret, date, region, service), so the
// four-HMAC derivation runs once a day per scope instead of once per request.
// Thread-safe; share one per client or per process.
class SigningKeyCache {
 public:
  using Key = std::array<std::uint8_t, 32>;
  Key get(std::string_view secret_access_key, std::string_view date, std::string_view region,
          std::string_view service);
  std::size_t derivations() const;  // how many keys were derived so far (for tests)

 private:
  struct Entry {
    std::string secret;
    std::string date;
    std::string region;
    std::string service;
    Key key{};
  };
  static constexpr std::size_t kMaxEntries = 16;
  mutable std::mutex mutex_;
  std::vector<Entry> entries_;
  std::size_t derivations_ = 0;
};

// The 32-byte key of the scope date/region/service/aws4_request (no caching).
SigningKeyCache::Key derive_signing_key(std::string_view secret_access_key, std::string_view date,
                                        std::string_view region, std::string_view service);

// Adds Authorization, X-Amz-Date, X-Amz-Security-Token (when there is a session
// token) and, for S3, x-amz-content-sha256 to `request`. `now` is injectable
// for tests. Signing again (e.g. on a retry) replaces those headers.
void sign_request(HttpRequest& request, const Credentials& credentials, const SigningScope& scope,
                  std::chrono::system_clock::time_point now, const SigningOptions& options = {});

// The same, deriving the key through `key_cache` (when not null) and filling
// `trace` (when not null).
void sign_request(HttpRequest& request, const Credentials& credentials, const SigningScope& scope,
                  std::chrono::system_clock::time_point now, const SigningOptions& options,
                  SigningKeyCache* key_cache, SigningTrace* trace = nullptr);

// Query-signed form: appends X-Amz-Algorithm, X-Amz-Credential, X-Amz-Date,
// X-Amz-SignedHeaders, X-Amz-Expires, X-Amz-Security-Token (when there is a
// session token) and X-Amz-Signature to `request.query`; `request.url()` is
// then the presigned URL. For an S3 presigned URL set `s3` and
// `unsigned_payload`. `expires` must be 1 s .. 7 days for S3.
void presign_request(HttpRequest& request, const Credentials& credentials,
                     const SigningScope& scope, std::chrono::system_clock::time_point now,
                     std::chrono::seconds expires, const SigningOptions& options = {},
                     SigningTrace* trace = nullptr);

}  // namespace salesflow::aws
