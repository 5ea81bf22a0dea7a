#pragma once
// Where requests to a service go: its endpoint (custom, or the region's public
// one) and, for S3, the host and path of one object.

#include <string>
#include <string_view>

#include "aws/error.hpp"

namespace salesflow::aws {

struct Endpoint {
  std::string scheme = "https";
  std::string host;        // host[:port]
  std::string base_path;   // without a trailing '/'; usually empty
  bool is_custom = false;  // given explicitly (local stacks: path-style S3)
  std::string url() const { return scheme + "://" + host + base_path; }
};

// "http://127.0.0.1:4566/" -> {http, 127.0.0.1:4566, "", custom};
// "https://host/base" -> {https, host, /base, custom}. The scheme is http or
// https (any case); a missing host, a query, a fragment or user info is an
// error (code "InvalidEndpoint").
[[nodiscard]] Result<Endpoint> parse_endpoint_url(std::string_view url);

// The public AWS endpoint "https://<prefix>.<region>.amazonaws.com[.cn]".
Endpoint default_endpoint(std::string_view prefix, std::string_view region);

// Where one S3 request goes: virtual-hosted ("bucket.s3.REGION.amazonaws.com",
// "/key") or path style ("s3.REGION.amazonaws.com", "/bucket/key").
struct S3Location {
  std::string scheme;
  std::string host;
  std::string path;  // URI-encoded once, after the endpoint's base path
};

// Virtual-hosted unless `path_style`, or the bucket name is no DNS label
// (dots, uppercase, ...: the wildcard certificate covers one label only). An
// empty key addresses the bucket itself.
S3Location s3_location(const Endpoint& endpoint, bool path_style, std::string_view bucket,
                       std::string_view key);

}  // namespace salesflow::aws
