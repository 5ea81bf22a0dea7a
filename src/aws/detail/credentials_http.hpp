#pragma once
// A small synchronous HTTP client (libcurl easy handle) for the few requests
// credential providers make: STS, the container endpoint and EC2 IMDS.
// Private to the credential code; the service clients use the shared transport.

#include <chrono>
#include <string>
#include <vector>

#include "aws/error.hpp"
#include "aws/http_request.hpp"

namespace salesflow::aws::detail {

struct CredentialsHttpRequest {
  std::string method = "GET";
  std::string url;
  std::vector<Header> headers;
  std::string body;
  std::chrono::milliseconds connect_timeout{1000};
  std::chrono::milliseconds total_timeout{5000};
  bool bypass_proxy = false;  // link-local and loopback endpoints never go through a proxy
  std::string ca_bundle;      // empty: the system CA store
};

struct CredentialsHttpResponse {
  long status = 0;
  std::string body;
};

// A transport failure is an AwsError with service `service`, http_status 0 and
// code "ConnectionError" or "Timeout"; any HTTP status is a response.
// Error messages name the URL but never headers or bodies (they carry tokens).
[[nodiscard]] Result<CredentialsHttpResponse> credentials_http_fetch(
    const CredentialsHttpRequest& request, const std::string& service);

}  // namespace salesflow::aws::detail
