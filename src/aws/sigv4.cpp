#include "aws/sigv4.hpp"

#include <algorithm>
#include <array>
#include <string_view>
#include <utility>
#include <vector>

#include "aws/detail/uri.hpp"
#include "base/digest.hpp"
#include "base/hex.hpp"
#include "base/text.hpp"
#include "base/time.hpp"

namespace salesflow::aws {
namespace {

constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";
constexpr std::string_view kUnsignedPayload = "UNSIGNED-PAYLOAD";

std::string lowercase(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = base::ascii_lower(c);
  return out;
}

// Trims the value and collapses every run of whitespace (folded lines
// included) into one space.
std::string canonical_header_value(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  bool pending_space = false;
  for (const char c : value) {
    if (base::is_json_space(c)) {
      pending_space = !out.empty();
    } else {
      if (pending_space) out.push_back(' ');
      pending_space = false;
      out.push_back(c);
    }
  }
  return out;
}

// Headers a hop may add, drop or rewrite (proxies, curl's own Expect and
// Transfer-Encoding handling), and our own Authorization: never signed.
bool is_unsigned_header(std::string_view lower_name) {
  static constexpr std::array<std::string_view, 6> kSkipped = {
      "authorization", "user-agent", "x-amzn-trace-id",
      "expect",        "connection", "transfer-encoding"};
  return std::find(kSkipped.begin(), kSkipped.end(), lower_name) != kSkipped.end();
}

void remove_headers(std::vector<Header>& headers, std::string_view name) {
  std::erase_if(headers, [&](const Header& header) { return base::iequals(header.name, name); });
}

struct CanonicalHeaders {
  std::string block;           // "name:value\n" per header
  std::string signed_headers;  // "host;x-amz-date"
};

CanonicalHeaders canonicalize_headers(const HttpRequest& request, std::string_view excluded) {
  std::vector<std::pair<std::string, std::string>> headers;
  headers.reserve(request.headers.size() + 1);
  bool has_host = false;
  for (const Header& header : request.headers) {
    std::string name = lowercase(header.name);
    if (is_unsigned_header(name) || (!excluded.empty() && name == excluded)) continue;
    has_host = has_host || name == "host";
    headers.emplace_back(std::move(name), canonical_header_value(header.value));
  }
  // The transport leaves Host to libcurl, which sends `request.host`.
  if (!has_host) headers.emplace_back("host", canonical_header_value(request.host));
  // Stable: values of a repeated header keep their order when joined.
  std::stable_sort(headers.begin(), headers.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });

  CanonicalHeaders out;
  for (std::size_t i = 0; i < headers.size(); ++i) {
    const bool continues = i > 0 && headers[i].first == headers[i - 1].first;
    if (continues) {
      out.block.back() = ',';  // replaces the previous line's '\n'
    } else {
      if (!out.signed_headers.empty()) out.signed_headers.push_back(';');
      out.signed_headers.append(headers[i].first);
      out.block.append(headers[i].first);
      out.block.push_back(':');
    }
    out.block.append(headers[i].second);
    out.block.push_back('\n');
  }
  return out;
}

std::string canonical_uri(const HttpRequest& request, const SigningOptions& options) {
  const std::string_view path = request.path.empty() ? std::string_view("/") : request.path;
  if (options.s3) {
    // S3 signs the key encoded exactly once: escapes already on the wire stay.
    return uri_encode_keep_escapes(path, true);
  }
  // Other services encode the wire path once more ("double encoding").
  const bool normalize = options.normalize_path.value_or(true);
  return uri_encode_path(normalize ? normalize_path(path) : std::string(path));
}

std::string payload_hash(const HttpRequest& request, const SigningOptions& options) {
  if (!options.payload_hash.empty()) return options.payload_hash;
  if (options.unsigned_payload) return std::string(kUnsignedPayload);
  return base::sha256_hex(request.body);
}

std::string build_canonical_request(const HttpRequest& request, std::string_view uri,
                                    std::string_view query, const CanonicalHeaders& headers,
                                    std::string_view hash) {
  std::string out;
  out.reserve(request.method.size() + uri.size() + query.size() + headers.block.size() +
              headers.signed_headers.size() + hash.size() + 8);
  out.append(request.method).push_back('\n');
  out.append(uri).push_back('\n');
  out.append(query).push_back('\n');
  out.append(headers.block).push_back('\n');
  out.append(headers.signed_headers).push_back('\n');
  out.append(hash);
  return out;
}

std::string credential_scope(std::string_view date, const SigningScope& scope) {
  std::string out;
  out.reserve(date.size() + scope.region.size() + scope.service.size() + 16);
  out.append(date).append("/").append(scope.region).append("/").append(scope.service);
  out.append("/aws4_request");
  return out;
}

std::string build_string_to_sign(std::string_view amz_date, std::string_view scope,
                                 std::string_view canonical_request) {
  std::string out;
  out.reserve(kAlgorithm.size() + amz_date.size() + scope.size() + 64 + 3);
  out.append(kAlgorithm).push_back('\n');
  out.append(amz_date).push_back('\n');
  out.append(scope).push_back('\n');
  out.append(base::sha256_hex(canonical_request));
  return out;
}

std::string compute_signature(std::string_view secret, std::string_view date,
                              const SigningScope& scope, std::string_view string_to_sign,
                              SigningKeyCache* key_cache) {
  const SigningKeyCache::Key key =
      key_cache != nullptr ? key_cache->get(secret, date, scope.region, scope.service)
                           : derive_signing_key(secret, date, scope.region, scope.service);
  return base::hex_encode(base::hmac_sha256(key, string_to_sign));
}

void fill_trace(SigningTrace* trace, std::string canonical_request, std::string string_to_sign,
                const std::string& signature) {
  if (trace == nullptr) return;
  trace->canonical_request = std::move(canonical_request);
  trace->string_to_sign = std::move(string_to_sign);
  trace->signature = signature;
}

}  // namespace

SigningKeyCache::Key derive_signing_key(std::string_view secret_access_key, std::string_view date,
                                        std::string_view region, std::string_view service) {
  std::string seed;
  seed.reserve(4 + secret_access_key.size());
  seed.append("AWS4").append(secret_access_key);
  const auto date_key = base::hmac_sha256(seed, date);
  const auto region_key = base::hmac_sha256(date_key, region);
  const auto service_key = base::hmac_sha256(region_key, service);
  return base::hmac_sha256(service_key, "aws4_request");
}

SigningKeyCache::Key SigningKeyCache::get(std::string_view secret_access_key, std::string_view date,
                                          std::string_view region, std::string_view service) {
  const std::lock_guard lock(mutex_);
  for (const Entry& entry : entries_) {
    if (entry.date == date && entry.region == region && entry.service == service &&
        entry.secret == secret_access_key) {
      return entry.key;
    }
  }
  // A new day (or new credentials) makes the older keys useless: drop them.
  std::erase_if(entries_, [&](const Entry& entry) {
    return entry.date != date || entry.secret != secret_access_key;
  });
  if (entries_.size() >= kMaxEntries) entries_.erase(entries_.begin());
  Entry entry{std::string(secret_access_key), std::string(date), std::string(region),
              std::string(service), derive_signing_key(secret_access_key, date, region, service)};
  ++derivations_;
  entries_.push_back(std::move(entry));
  return entries_.back().key;
}

std::size_t SigningKeyCache::derivations() const {
  const std::lock_guard lock(mutex_);
  return derivations_;
}

void sign_request(HttpRequest& request, const Credentials& credentials, const SigningScope& scope,
                  std::chrono::system_clock::time_point now, const SigningOptions& options) {
  sign_request(request, credentials, scope, now, options, nullptr, nullptr);
}

void sign_request(HttpRequest& request, const Credentials& credentials, const SigningScope& scope,
                  std::chrono::system_clock::time_point now, const SigningOptions& options,
                  SigningKeyCache* key_cache, SigningTrace* trace) {
  const std::string amz_date = base::iso8601_basic_utc(now);
  const std::string_view date = std::string_view(amz_date).substr(0, 8);
  const bool content_header = options.content_sha256_header.value_or(options.s3);
  const std::string hash = payload_hash(request, options);

  // Signing replaces what an earlier signature (a retry) left behind.
  remove_headers(request.headers, "authorization");
  remove_headers(request.headers, "x-amz-date");
  remove_headers(request.headers, "x-amz-security-token");
  if (content_header) remove_headers(request.headers, "x-amz-content-sha256");

  const bool has_token = !credentials.session_token.empty();
  if (has_token) request.headers.push_back({"X-Amz-Security-Token", credentials.session_token});
  request.headers.push_back({"X-Amz-Date", amz_date});
  if (content_header) request.headers.push_back({"x-amz-content-sha256", hash});

  const CanonicalHeaders headers = canonicalize_headers(
      request, has_token && options.omit_session_token ? "x-amz-security-token" : "");
  const std::string scope_text = credential_scope(date, scope);
  std::string canonical_request =
      build_canonical_request(request, canonical_uri(request, options),
                              canonical_query_string(request.query), headers, hash);
  std::string string_to_sign = build_string_to_sign(amz_date, scope_text, canonical_request);
  const std::string signature =
      compute_signature(credentials.secret_access_key, date, scope, string_to_sign, key_cache);

  std::string authorization;
  authorization.reserve(160 + headers.signed_headers.size());
  authorization.append(kAlgorithm).append(" Credential=").append(credentials.access_key_id);
  authorization.append("/").append(scope_text).append(", SignedHeaders=");
  authorization.append(headers.signed_headers).append(", Signature=").append(signature);
  request.headers.push_back({"Authorization", std::move(authorization)});
  fill_trace(trace, std::move(canonical_request), std::move(string_to_sign), signature);
}

void presign_request(HttpRequest& request, const Credentials& credentials,
                     const SigningScope& scope, std::chrono::system_clock::time_point now,
                     std::chrono::seconds expires, const SigningOptions& options,
                     SigningTrace* trace) {
  const std::string amz_date = base::iso8601_basic_utc(now);
  const std::string_view date = std::string_view(amz_date).substr(0, 8);
  const std::string scope_text = credential_scope(date, scope);
  const CanonicalHeaders headers = canonicalize_headers(request, "");
  const bool sign_token = !credentials.session_token.empty() && !options.omit_session_token;

  // Authentication parameters in the order the AWS SDKs append them.
  std::vector<std::pair<std::string_view, std::string>> auth_params = {
      {"X-Amz-Algorithm", std::string(kAlgorithm)},
      {"X-Amz-Credential", uri_encode(credentials.access_key_id + "/" + scope_text)},
      {"X-Amz-Date", amz_date},
      {"X-Amz-SignedHeaders", uri_encode(headers.signed_headers)},
      {"X-Amz-Expires", std::to_string(expires.count())},
  };
  if (sign_token)
    auth_params.emplace_back("X-Amz-Security-Token", uri_encode(credentials.session_token));

  std::string query = request.query;
  for (const auto& [name, value] : auth_params) {
    if (!query.empty()) query.push_back('&');
    query.append(name).append("=").append(value);
  }

  std::string canonical_request = build_canonical_request(request, canonical_uri(request, options),
                                                          canonical_query_string(query), headers,
                                                          payload_hash(request, options));
  std::string string_to_sign = build_string_to_sign(amz_date, scope_text, canonical_request);
  const std::string signature =
      compute_signature(credentials.secret_access_key, date, scope, string_to_sign, nullptr);

  if (!credentials.session_token.empty() && !sign_token) {
    query.append("&X-Amz-Security-Token=").append(uri_encode(credentials.session_token));
  }
  query.append("&X-Amz-Signature=").append(signature);
  request.query = std::move(query);
  fill_trace(trace, std::move(canonical_request), std::move(string_to_sign), signature);
}

}  // namespace salesflow::aws
