#pragma once
// Whole-file reads for the small files salesflow is configured with: the AWS
// config and credentials files, web identity and container tokens, rules.
//
// Cost: one open and one read of the whole file into memory; meant for files of
// kilobytes, never for input data (that is streamed).

#include <optional>
#include <string>

namespace salesflow::base {

// The bytes of the file at `path`, or nullopt when it cannot be opened or read
// (errno then tells why).
[[nodiscard]] std::optional<std::string> read_file(const std::string& path);

}  // namespace salesflow::base
