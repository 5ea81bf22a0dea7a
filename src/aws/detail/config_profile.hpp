#pragma once
// The shared AWS `config` and `credentials` files (INI-like profiles).

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "aws/config_env.hpp"

namespace salesflow::aws {

using Profile = std::map<std::string, std::string, std::less<>>;  // key -> value
using Profiles = std::map<std::string, Profile, std::less<>>;     // profile name -> keys

enum class ProfileFileKind { config, credentials };

// Parses one file. In `config`, sections are "[default]" and "[profile name]";
// in `credentials` they are "[name]". Lines starting with '#' or ';' and
// comments after whitespace (" #", " ;") are ignored; keys and values are
// trimmed; an indented "key = value" under "parent =" becomes "parent.key".
Profiles parse_profile_file(std::string_view text, ProfileFileKind kind);

struct ProfileFiles {
  std::string config_path;       // AWS_CONFIG_FILE or ~/.aws/config
  std::string credentials_path;  // AWS_SHARED_CREDENTIALS_FILE or ~/.aws/credentials
  Profiles profiles;             // both merged; credentials win on conflicts
};

// Reads both files (a missing file is no error: it just has no profiles).
ProfileFiles load_profile_files(const EnvLookup& env);

// AWS_PROFILE, then AWS_DEFAULT_PROFILE, then "default".
std::string selected_profile_name(const EnvLookup& env);

}  // namespace salesflow::aws
