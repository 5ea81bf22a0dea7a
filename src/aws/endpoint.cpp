#include "aws/endpoint.hpp"

#include <fmt/format.h>

#include <cctype>

#include "aws/detail/uri.hpp"
#include "base/text.hpp"

namespace salesflow::aws {
namespace {

bool is_dns_compatible_bucket(std::string_view bucket) {
  if (bucket.size() < 3 || bucket.size() > 63) return false;
  for (const char c : bucket) {
    if (!(std::islower(static_cast<unsigned char>(c)) ||
          std::isdigit(static_cast<unsigned char>(c)) || c == '-')) {
      return false;
    }
  }
  return bucket.front() != '-' && bucket.back() != '-';
}

}  // namespace

Result<Endpoint> parse_endpoint_url(std::string_view url) {
  const auto invalid = [&](std::string_view why) {
    AwsError error;
    error.service = "config";
    error.operation = "ParseEndpoint";
    error.code = "InvalidEndpoint";
    error.message = fmt::format("endpoint URL '{}': {}", url, why);
    return tl::make_unexpected(std::move(error));
  };
  const auto separator = url.find("://");
  if (separator == std::string_view::npos) return invalid("no scheme");
  Endpoint endpoint;
  endpoint.is_custom = true;
  endpoint.scheme = std::string(url.substr(0, separator));
  for (char& c : endpoint.scheme) c = base::ascii_lower(c);
  if (endpoint.scheme != "http" && endpoint.scheme != "https") return invalid("not http(s)");
  std::string_view rest = url.substr(separator + 3);
  while (rest.ends_with('/')) rest.remove_suffix(1);
  if (rest.find_first_of("?#@ ") != std::string_view::npos) {
    return invalid("only scheme://host[:port][/path] is supported");
  }
  const auto slash = rest.find('/');
  endpoint.host = std::string(rest.substr(0, slash));
  if (endpoint.host.empty() || endpoint.host.front() == ':') return invalid("no host");
  if (slash != std::string_view::npos) endpoint.base_path = std::string(rest.substr(slash));
  return endpoint;
}

Endpoint default_endpoint(std::string_view prefix, std::string_view region) {
  Endpoint endpoint;
  const bool china = region.starts_with("cn-");
  endpoint.host = fmt::format("{}.{}.amazonaws.com{}", prefix, region, china ? ".cn" : "");
  return endpoint;
}

S3Location s3_location(const Endpoint& endpoint, bool path_style, std::string_view bucket,
                       std::string_view key) {
  const std::string encoded_key = key.empty() ? std::string() : "/" + uri_encode_path(key);
  if (path_style || !is_dns_compatible_bucket(bucket)) {
    return {endpoint.scheme, endpoint.host,
            endpoint.base_path + "/" + uri_encode(bucket) + encoded_key};
  }
  return {endpoint.scheme, std::string(bucket) + "." + endpoint.host,
          endpoint.base_path + (encoded_key.empty() ? "/" : encoded_key)};
}

}  // namespace salesflow::aws
