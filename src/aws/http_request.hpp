#pragma once
// An HTTP request as the signer and the transport both see it.

#include <string>
#include <vector>

namespace salesflow::aws {

struct Header {
  std::string name;
  std::string value;
};

struct HttpRequest {
  std::string method = "GET";
  std::string scheme = "https";
  std::string host;      // host[:port], exactly what goes into the Host header
  std::string path = "/";  // already URI-encoded, as sent on the wire
  std::string query;     // already encoded, without the '?', as sent on the wire
  std::vector<Header> headers;
  std::string body;

  std::string url() const { return scheme + "://" + host + path + (query.empty() ? "" : "?" + query); }
};

}  // namespace salesflow::aws
