#include "aws/detail/config_profile.hpp"

#include <algorithm>

#include "base/file.hpp"
#include "base/text.hpp"

namespace salesflow::aws {
namespace {

// A comment starts a line, or follows whitespace inside a line.
std::string_view strip_comment(std::string_view line) {
  for (std::size_t i = 0; i < line.size(); ++i) {
    if ((line[i] == '#' || line[i] == ';') &&
        (i == 0 || line[i - 1] == ' ' || line[i - 1] == '\t')) {
      return line.substr(0, i);
    }
  }
  return line;
}

}  // namespace

Profiles parse_profile_file(std::string_view text, ProfileFileKind kind) {
  Profiles profiles;
  Profile* current = nullptr;
  std::string parent;  // "s3" in "s3 =\n  addressing_style = path"
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t end = std::min(text.find('\n', start), text.size());
    const std::string_view raw = text.substr(start, end - start);
    start = end + 1;
    const bool indented = !raw.empty() && (raw.front() == ' ' || raw.front() == '\t');
    const std::string_view line = base::trim(strip_comment(raw));
    if (line.empty()) continue;
    if (line.front() == '[') {
      parent.clear();
      current = nullptr;
      const auto close = line.find(']');
      if (close == std::string_view::npos) continue;  // malformed header: its keys are skipped
      std::string_view name = base::trim(line.substr(1, close - 1));
      if (kind == ProfileFileKind::config && name != "default") {
        if (!name.starts_with("profile ") && !name.starts_with("profile\t")) continue;
        name = base::trim(name.substr(8));
      }
      if (!name.empty()) current = &profiles[std::string(name)];
      continue;
    }
    if (current == nullptr) continue;
    const auto eq = line.find('=');
    if (eq == std::string_view::npos) continue;
    const std::string key(base::trim(line.substr(0, eq)));
    const std::string value(base::trim(line.substr(eq + 1)));
    if (indented && !parent.empty()) {
      (*current)[parent + "." + key] = value;
    } else if (value.empty()) {
      parent = key;
    } else {
      parent.clear();
      (*current)[key] = value;
    }
  }
  return profiles;
}

ProfileFiles load_profile_files(const EnvLookup& env) {
  const std::string home = env("HOME").value_or("");
  ProfileFiles files;
  files.config_path = env("AWS_CONFIG_FILE").value_or(home + "/.aws/config");
  files.credentials_path = env("AWS_SHARED_CREDENTIALS_FILE").value_or(home + "/.aws/credentials");
  if (const auto text = base::read_file(files.config_path)) {
    files.profiles = parse_profile_file(*text, ProfileFileKind::config);
  }
  if (const auto text = base::read_file(files.credentials_path)) {
    for (auto& [name, keys] : parse_profile_file(*text, ProfileFileKind::credentials)) {
      for (auto& [key, value] : keys) files.profiles[name][key] = value;
    }
  }
  return files;
}

std::string selected_profile_name(const EnvLookup& env) {
  if (auto name = env("AWS_PROFILE")) return *name;
  if (auto name = env("AWS_DEFAULT_PROFILE")) return *name;
  return "default";
}

}  // namespace salesflow::aws
