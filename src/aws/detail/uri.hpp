#pragma once
// URI encoding as SigV4 and S3 want it: RFC 3986 unreserved characters
// (A-Z a-z 0-9 - _ . ~) stay, every other byte becomes %XX (uppercase hex);
// a space is always %20, never '+'.

#include <string>
#include <string_view>

namespace salesflow::aws {

// Encodes every byte outside the unreserved set, '/' included.
std::string uri_encode(std::string_view text);

// Encodes every byte outside the unreserved set except '/': an S3 object key
// or any path becomes a wire path ("a b/c+d" -> "a%20b/c%2Bd").
std::string uri_encode_path(std::string_view path);

// Like uri_encode / uri_encode_path, but a well-formed %XX escape already in
// `text` is kept (its hex uppercased) instead of being encoded a second time.
// Turns a wire string, whether its producer escaped it or not, into the
// encoded-once form.
std::string uri_encode_keep_escapes(std::string_view text, bool keep_slash);

// Replaces each well-formed %XX by its byte; '+' stays '+'.
std::string uri_decode(std::string_view text);

// RFC 3986 remove_dot_segments plus collapsing empty segments ("//"), keeping
// a leading and a trailing '/': "/a/./b/../c//" -> "/a/c/". What SigV4 calls
// path normalisation (every service but S3).
std::string normalize_path(std::string_view path);

// The SigV4 canonical query string of a wire query (without '?'): each name
// and value encoded once, pairs sorted by name then value, joined by '&';
// a parameter without '=' gets an empty value ("a" -> "a=").
std::string canonical_query_string(std::string_view query);

}  // namespace salesflow::aws
