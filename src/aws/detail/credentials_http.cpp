#include "aws/detail/credentials_http.hpp"

#include <curl/curl.h>

#include <memory>

namespace salesflow::aws::detail {
namespace {

struct EasyDeleter {
  void operator()(CURL* handle) const { curl_easy_cleanup(handle); }
};
struct SlistDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};

std::size_t append_body(char* data, std::size_t size, std::size_t count, void* user) {
  static_cast<std::string*>(user)->append(data, size * count);
  return size * count;
}

}  // namespace

Result<CredentialsHttpResponse> credentials_http_fetch(const CredentialsHttpRequest& request,
                                                       const std::string& service) {
  const auto fail = [&](std::string code, std::string message) {
    AwsError error;
    error.service = service;
    error.operation = request.method + " " + request.url;
    error.code = std::move(code);
    error.message = std::move(message);
    error.retryable = true;
    return tl::make_unexpected(std::move(error));
  };

  const std::unique_ptr<CURL, EasyDeleter> curl(curl_easy_init());
  if (!curl) return fail("ConnectionError", "cannot create a libcurl handle");
  std::unique_ptr<curl_slist, SlistDeleter> headers;
  for (const Header& header : request.headers) {
    const std::string line = header.name + ": " + header.value;
    curl_slist* const appended = curl_slist_append(headers.get(), line.c_str());
    if (appended == nullptr) return fail("ConnectionError", "out of memory for headers");
    static_cast<void>(headers.release());
    headers.reset(appended);
  }
  CredentialsHttpResponse response;
  CURL* const h = curl.get();
  curl_easy_setopt(h, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  if (request.method == "HEAD") curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
  if (!request.body.empty() || request.method == "POST" || request.method == "PUT") {
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, request.body.data());
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
  }
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(request.connect_timeout.count()));
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(request.total_timeout.count()));
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  if (request.bypass_proxy) curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
  if (!request.ca_bundle.empty()) curl_easy_setopt(h, CURLOPT_CAINFO, request.ca_bundle.c_str());
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, append_body);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &response.body);

  const CURLcode result = curl_easy_perform(h);
  if (result != CURLE_OK) {
    return fail(result == CURLE_OPERATION_TIMEDOUT ? "Timeout" : "ConnectionError",
                std::string(curl_easy_strerror(result)) + " (" + request.url + ")");
  }
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &response.status);
  return response;
}

}  // namespace salesflow::aws::detail
