#include "app/settings.hpp"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "base/file.hpp"
#include "base/scratch_file.hpp"

namespace salesflow::app {

namespace {

constexpr std::string_view kVariablePrefix = "SALESFLOW_";

// An option the environment may set: a long option other than --help and --version.
bool from_environment(const CLI::App& app, const CLI::Option& option) {
  return !option.get_lnames().empty() && &option != app.get_help_ptr() &&
         &option != app.get_version_ptr();
}

std::string variable_of(const CLI::Option& option) {
  return environment_name(option.get_lnames().front());
}

// The variable's value; empty when unset (an empty variable counts as unset, as in CLI11).
std::string variable_value(const std::string& name) {
  const char* const value = std::getenv(name.c_str());
  return value == nullptr ? std::string{} : std::string{value};
}

// CLI11 reads the settings file before the environment and takes a variable only
// for an option still unset, so a file's key would beat its variable. This reader
// leaves out the keys whose option's variable is set, and the variable fills them.
class VariablesOverFile : public CLI::ConfigTOML {
 public:
  explicit VariablesOverFile(CLI::App& root) : root_(&root) {}

  std::vector<CLI::ConfigItem> from_config(std::istream& input) const override {
    auto items = CLI::ConfigTOML::from_config(input);
    std::erase_if(items, [this](const CLI::ConfigItem& item) { return set_by_variable(item); });
    return items;
  }

 private:
  [[nodiscard]] bool set_by_variable(const CLI::ConfigItem& item) const {
    CLI::App* app = root_;
    for (const auto& section : item.parents) {
      const auto matches =
          app->get_subcommands([&section](CLI::App* sub) { return sub->check_name(section); });
      if (matches.empty()) {
        return false;
      }
      app = matches.front();
    }
    const CLI::Option* const option = app->get_option_no_throw("--" + item.name);
    return option != nullptr && !option->get_envname().empty() &&
           !variable_value(option->get_envname()).empty();
  }

  CLI::App* root_;
};

// A command's options take their variables only once the command is chosen (its
// parse begins): CLI11 reads the environment for every subcommand's options, and
// commands that share a setting (--grace-period of worker and process) would
// otherwise overwrite the chosen command's flag with the other's variable.
void bind_options(CLI::App& app, bool root,
                  const std::shared_ptr<EnvironmentOptions::LastValue>& last,
                  std::set<std::string, std::less<>>& names) {
  for (CLI::Option* const option : app.get_options()) {
    if (!from_environment(app, *option)) {
      continue;
    }
    const auto variable = variable_of(*option);
    names.insert(variable);
    // First in line, so it sees every value before the option's own checks reject it.
    option->transform(CLI::Validator(
        [last, variable, name = option->get_name()](const std::string& value) {
          *last = {variable, name, value};
          return std::string{};
        },
        std::string{}));
    if (root) {
      option->envname(variable);
    }
  }
  if (!root) {
    app.preparse_callback([&app](std::size_t) {
      for (CLI::Option* const option : app.get_options()) {
        if (from_environment(app, *option)) {
          option->envname(variable_of(*option));
        }
      }
    });
  }
  for (CLI::App* const sub : app.get_subcommands([](CLI::App*) { return true; })) {
    bind_options(*sub, false, last, names);
  }
}

}  // namespace

std::string environment_name(std::string_view long_option) {
  while (long_option.starts_with('-')) {
    long_option.remove_prefix(1);
  }
  std::string name{kVariablePrefix};
  for (const char c : long_option) {
    name += c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return name;
}

bool reserved_environment_name(std::string_view name) {
  // The test scripts' and CMake tests' own variables (tests/, packaging/).
  static constexpr std::array<std::string_view, 5> kNames = {
      "SALESFLOW_BINARY", "SALESFLOW_BINARY_PATH", "SALESFLOW_SOURCE_DIR",
      "SALESFLOW_TEST_DATA_DIR", "SALESFLOW_CONCAT_STREAM_MIB"};
  static constexpr std::array<std::string_view, 3> kPrefixes = {
      "SALESFLOW_LOCALAWS_", "SALESFLOW_LAMBDA_", "SALESFLOW_TEST_"};
  return std::ranges::find(kNames, name) != kNames.end() ||
         std::ranges::any_of(kPrefixes,
                             [name](std::string_view prefix) { return name.starts_with(prefix); });
}

EnvironmentOptions::EnvironmentOptions(CLI::App& root) : root_(&root) {
  bind_options(root, true, last_, names_);
  root.config_formatter(std::make_shared<VariablesOverFile>(root));
  // CLI11 reads the settings file before the environment, so SALESFLOW_CONFIG is
  // applied here: it names the file as --config does (a missing one is an error).
  if (CLI::Option* const config = root.get_config_ptr(); config != nullptr) {
    const auto file = variable_value(variable_of(*config));
    if (!file.empty()) {
      config->default_str(file)->required();
    }
  }
}

std::optional<std::string> EnvironmentOptions::variable_error(const CLI::ParseError& error) const {
  const std::string what = error.what();
  if (dynamic_cast<const CLI::FileError*>(&error) != nullptr) {
    const CLI::Option* const config = root_->get_config_ptr();
    if (config == nullptr || config->count() > 0) {
      return std::nullopt;
    }
    const auto variable = variable_of(*config);
    const auto file = variable_value(variable);
    if (file.empty()) {
      return std::nullopt;
    }
    return variable + "=" + file + ": " + what;
  }
  const bool bad_value = dynamic_cast<const CLI::ValidationError*>(&error) != nullptr ||
                         dynamic_cast<const CLI::ConversionError*>(&error) != nullptr;
  // The rejected value is the last one validated if the error names its option.
  const bool names_last = what.starts_with(last_->option + ":") ||
                          what.starts_with("Could not convert: " + last_->option + " =") ||
                          what.ends_with("for " + last_->option);
  if (!bad_value || last_->variable.empty() || !names_last) {
    return std::nullopt;
  }
  const auto value = variable_value(last_->variable);
  if (value.empty() || value != last_->value) {
    return std::nullopt;
  }
  return last_->variable + "=" + value + ": " + what;
}

std::vector<std::string> EnvironmentOptions::unknown_variables(const char* const* env) const {
  std::vector<std::string> unknown;
  for (; env != nullptr && *env != nullptr; ++env) {
    const std::string_view entry{*env};
    const auto name = entry.substr(0, entry.find('='));
    if (name.starts_with(kVariablePrefix) && !names_.contains(name) &&
        !reserved_environment_name(name)) {
      unknown.emplace_back(name);
    }
  }
  std::ranges::sort(unknown);
  return unknown;
}

tl::expected<core::Rules, std::string> load_rules(const Settings& settings) {
  if (settings.rules_file.empty()) {
    return core::Rules::defaults();
  }
  const auto text = base::read_file(settings.rules_file);
  if (!text) {
    return tl::make_unexpected(settings.rules_file +
                               ": cannot read the rules file: " + std::strerror(errno));
  }
  return core::Rules::from_toml_string(*text, settings.rules_file);
}

core::DuplicateTrackingOptions duplicate_tracking_options(const Settings& settings, int objects) {
  core::DuplicateTrackingOptions options;
  options.memory_budget_bytes =
      (settings.dedup_memory_mib << 20) / static_cast<std::size_t>(std::max(objects, 1));
  std::string directory = settings.dedup_dir;
  if (directory.empty()) {
    const char* const tmpdir = std::getenv("TMPDIR");
    directory = tmpdir != nullptr && *tmpdir != '\0' ? tmpdir : "/tmp";
  }
  options.scratch = std::make_shared<base::TempDirectory>(std::move(directory));
  return options;
}

core::ReaderOptions reader_options(const Settings& settings) {
  core::ReaderOptions options;
  options.format = core::parse_input_format(settings.format).value_or(core::InputFormat::automatic);
  options.wrapper_member = settings.wrapper_member;
  return options;
}

void add_global_options(CLI::App& root, Settings& settings) {
  root.set_config("--config", "salesflow.toml",
                  "Settings file (TOML; keys are the long option names, sections the subcommands)");
  auto& r = settings.resources;
  const std::string aws = "AWS";
  const std::string resources = "Resources";
  root.add_option("--region", settings.region,
                  "AWS region (default: AWS_REGION, AWS_DEFAULT_REGION, profile)")
      ->group(aws);
  root.add_option("--profile", settings.profile,
                  "Profile of the shared AWS config files (default: AWS_PROFILE)")
      ->group(aws);
  root.add_option(
          "--endpoint-url", settings.endpoint_url,
          "One endpoint for S3, DynamoDB and SQS (default: AWS_ENDPOINT_URL[_S3|_DYNAMODB|_SQS])")
      ->group(aws);
  root.add_option("--bucket", r.bucket, "S3 bucket the sales files land in")
      ->capture_default_str()
      ->group(resources);
  root.add_option("--table", r.table, "DynamoDB table of complete records")
      ->capture_default_str()
      ->group(resources);
  root.add_option("--ledger-table", r.ledger_table, "DynamoDB table of per-object progress")
      ->capture_default_str()
      ->group(resources);
  root.add_option("--notification-queue", r.notification_queue,
                  "SQS queue of S3 event notifications")
      ->capture_default_str()
      ->group(resources);
  root.add_option("--poison-queue", r.poison_queue,
                  "SQS queue that notifications move to after --max-receive-count failed receives")
      ->capture_default_str()
      ->group(resources);
  root.add_option("--dlq", r.dlq, "SQS dead-letter queue of rejected records")
      ->capture_default_str()
      ->group(resources);
  root.add_option("--offload-bucket", r.offload_bucket,
                  "S3 bucket for DLQ envelopes too large for one SQS message "
                  "(default: <bucket>-dlq-offload)")
      ->group(resources);
  root.add_option("--offload-prefix", r.offload_prefix,
                  "Key prefix (in the offload bucket) of DLQ envelopes too large for one message")
      ->capture_default_str()
      ->group(resources);
  root.add_option("--rules", settings.rules_file,
                  "Rules file (TOML, docs/rules.md); default: built-in rules")
      ->check(CLI::ExistingFile);
  root.add_option("--format", settings.format,
                  "Input format: auto (from content), jsonl, array, wrapped, concatenated")
      ->check(CLI::IsMember({"auto", "jsonl", "array", "wrapped", "concatenated"}))
      ->capture_default_str();
  root.add_option("--wrapper-member", settings.wrapper_member,
                  "Member of a wrapper object holding the array of records")
      ->capture_default_str();
  root.add_option("--log-level", settings.log_level, "trace, debug, info, warn, error")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}))
      ->capture_default_str();
}

void add_conflict_option(CLI::App& command, Settings& settings) {
  command
      .add_option("--on-conflict", settings.on_conflict,
                  "A record whose key the table already holds with other content: overwrite "
                  "(newest wins) or reject (to the DLQ as duplicate_key)")
      ->transform(CLI::CheckedTransformer(
          std::map<std::string, ConflictMode>{{"overwrite", ConflictMode::overwrite},
                                              {"reject", ConflictMode::reject}},
          CLI::ignore_case))
      ->capture_default_str();
}

void add_duplicate_tracking_options(CLI::App& command, Settings& settings) {
  command
      .add_option("--dedup-memory", settings.dedup_memory_mib,
                  "MiB that duplicate tracking may hold for all objects in flight together; "
                  "beyond it, sorted runs spill to --dedup-dir (0: no bound)")
      ->check(CLI::Range(std::size_t{0}, std::size_t{1} << 20))
      ->capture_default_str();
  command.add_option("--dedup-dir", settings.dedup_dir,
                     "Directory for duplicate tracking's spilled runs (default: $TMPDIR, /tmp)");
}

void add_processing_options(CLI::App& command, Settings& settings) {
  add_conflict_option(command, settings);
  add_duplicate_tracking_options(command, settings);
  command.add_option("--objects", settings.objects_in_flight, "Objects processed at once")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  command
      .add_option("--requests", settings.requests_in_flight,
                  "Most AWS write requests in flight per object; below it the number adapts "
                  "to the round-trip times (1: strictly in order)")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  command
      .add_option("--checkpoint-every", settings.checkpoint_every,
                  "Records of durable progress between ledger checkpoints")
      ->check(CLI::Range(1, 100000000))
      ->capture_default_str();
  command
      .add_option("--lease", settings.lease_s,
                  "Seconds an object's ledger lease lasts between renewals")
      ->check(CLI::Range(10, 43200))
      ->capture_default_str();
  command
      .add_option("--dlq-max-message-bytes", settings.dlq_max_message_bytes,
                  "DLQ message size limit (256 KiB default; up to 1 MiB on AWS)")
      ->check(CLI::Range(64 * 1024, 1024 * 1024))
      ->capture_default_str();
  command.add_option("--metrics-addr", settings.metrics_addr,
                     "Serve Prometheus metrics on HOST:PORT");
}

}  // namespace salesflow::app
