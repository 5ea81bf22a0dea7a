#pragma once
// The process environment as a value: configuration code reads variables
// through an EnvLookup, so tests pass a map and nothing reads globals.

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace salesflow::aws {

// The value of a variable, or nullopt when it is not set. Empty values count
// as not set (as in the AWS SDKs).
using EnvLookup = std::function<std::optional<std::string>(std::string_view)>;

EnvLookup process_environment();  // getenv, read at call time
EnvLookup environment_from_map(std::map<std::string, std::string, std::less<>> variables);

}  // namespace salesflow::aws
