#include "aws/detail/uri.hpp"

#include <algorithm>
#include <utility>
#include <vector>

#include "base/hex.hpp"
#include "base/text.hpp"

namespace salesflow::aws {
namespace {

constexpr bool is_unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || c == '.' || c == '~';
}

bool is_escape_at(std::string_view text, std::size_t i) {
  return i + 2 < text.size() && text[i] == '%' && base::hex_value(text[i + 1]) >= 0 &&
         base::hex_value(text[i + 2]) >= 0;
}

void append_escaped(std::string& out, unsigned char c) {
  out.push_back('%');
  out.push_back(base::kHexUpper[c >> 4]);
  out.push_back(base::kHexUpper[c & 0x0f]);
}

std::string encode(std::string_view text, bool keep_slash, bool keep_escapes) {
  std::string out;
  out.reserve(text.size() + text.size() / 2);
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (is_unreserved(c) || (keep_slash && c == '/')) {
      out.push_back(static_cast<char>(c));
    } else if (keep_escapes && is_escape_at(text, i)) {
      out.push_back('%');
      out.push_back(base::kHexUpper[base::hex_value(text[i + 1])]);
      out.push_back(base::kHexUpper[base::hex_value(text[i + 2])]);
      i += 2;
    } else {
      append_escaped(out, c);
    }
  }
  return out;
}

}  // namespace

std::string uri_encode(std::string_view text) {
  return encode(text, false, false);
}

std::string uri_encode_path(std::string_view path) {
  return encode(path, true, false);
}

std::string uri_encode_keep_escapes(std::string_view text, bool keep_slash) {
  return encode(text, keep_slash, true);
}

std::string uri_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (is_escape_at(text, i)) {
      out.push_back(
          static_cast<char>(base::hex_value(text[i + 1]) * 16 + base::hex_value(text[i + 2])));
      i += 2;
    } else {
      out.push_back(text[i]);
    }
  }
  return out;
}

std::string normalize_path(std::string_view path) {
  std::vector<std::string_view> segments;
  std::size_t start = 0;
  while (start <= path.size()) {
    const std::size_t end = std::min(path.find('/', start), path.size());
    const std::string_view segment = path.substr(start, end - start);
    if (segment == "..") {
      if (!segments.empty()) segments.pop_back();
    } else if (!segment.empty() && segment != ".") {
      segments.push_back(segment);
    }
    start = end + 1;
  }
  // A path ending in "/", "/." or "/.." names a directory and keeps its slash.
  const bool trailing_slash =
      !segments.empty() && (path.ends_with('/') || path.ends_with("/.") || path.ends_with("/.."));
  std::string out;
  out.reserve(path.size() + 1);
  for (const std::string_view segment : segments) {
    out.push_back('/');
    out.append(segment);
  }
  if (out.empty() || trailing_slash) out.push_back('/');
  return out;
}

std::string canonical_query_string(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> params;
  std::size_t start = 0;
  while (start < query.size()) {
    const std::size_t end = std::min(query.find('&', start), query.size());
    const std::string_view param = query.substr(start, end - start);
    if (!param.empty()) {
      const std::size_t eq = param.find('=');
      const std::string_view name = param.substr(0, eq);
      const std::string_view value =
          eq == std::string_view::npos ? std::string_view{} : param.substr(eq + 1);
      params.emplace_back(uri_encode_keep_escapes(name, false),
                          uri_encode_keep_escapes(value, false));
    }
    start = end + 1;
  }
  std::sort(params.begin(), params.end());
  std::string out;
  for (const auto& [name, value] : params) {
    if (!out.empty()) out.push_back('&');
    out.append(name);
    out.push_back('=');
    out.append(value);
  }
  return out;
}

}  // namespace salesflow::aws
