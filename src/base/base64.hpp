#pragma once
// Standard base64 (RFC 4648, with padding) on OpenSSL's EVP_EncodeBlock: the
// DLQ envelope carries a record that is not UTF-8 this way.
//
// Cost: O(size), one resize of `out` per 3 MiB of input; off the hot path
// (only records that are not valid UTF-8 are encoded).

#include <string>
#include <string_view>

namespace salesflow::base {

// Appends `value` as base64 to `out`.
void append_base64(std::string& out, std::string_view value);

}  // namespace salesflow::base
