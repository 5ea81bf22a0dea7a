#include "app/cli.hpp"

#include <fmt/core.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>

#include "app/validate_command.hpp"
#include "core/rules.hpp"

namespace salesflow::app {
namespace {

constexpr int kUsageError = 2;

tl::expected<core::Rules, std::string> load_rules(const std::string& path) {
  if (path.empty()) {
    return core::Rules::defaults();
  }
  return core::Rules::from_toml_file(path);
}

void add_reader_options(CLI::App& command, std::string& format, std::string& wrapper) {
  command
      .add_option("--format", format, "Input format: auto (from content), jsonl, array, wrapped")
      ->check(CLI::IsMember({"auto", "jsonl", "array", "wrapped"}))
      ->capture_default_str();
  command
      .add_option("--wrapper-member", wrapper,
                  "Member of a wrapper object that holds the array of records")
      ->capture_default_str();
}

}  // namespace

int run_cli(int argc, char** argv) {
  CLI::App cli{
      "salesflow: sales-data files from S3, validated record by record into a DynamoDB table;\n"
      "incomplete records go to an SQS dead-letter queue with their reasons and raw text."};
  cli.set_version_flag("--version", SALESFLOW_VERSION);
  cli.require_subcommand(1);
  cli.fallthrough();

  std::string rules_file;
  std::string format = "auto";
  std::string wrapper = "orders";
  cli.add_option("--rules", rules_file,
                 "Rules file (TOML, see docs/rules.md); default: the built-in rules")
      ->check(CLI::ExistingFile);

  int status = 0;

  ValidateOptions validate;
  auto* validate_cmd = cli.add_subcommand(
      "validate",
      "Check local files offline: per-file counts, reasons, first rejects.\n"
      "Exit status: 0 all valid, 1 some records rejected, 2 usage error or unreadable file.");
  add_reader_options(*validate_cmd, format, wrapper);
  validate_cmd->add_flag("--json", validate.json, "Print a machine-readable summary");
  validate_cmd->add_option("files", validate.files, "Files to check")->required();
  validate_cmd->callback([&] {
    auto rules = load_rules(rules_file);
    if (!rules) {
      fmt::print(stderr, "salesflow: {}\n", rules.error());
      status = kUsageError;
      return;
    }
    validate.reader.format = *core::parse_input_format(format);
    validate.reader.wrapper_member = wrapper;
    validate.progress = !validate.json;
    core::RecordValidator validator(std::move(*rules));
    status = run_validate(validate, validator);
  });

  try {
    cli.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = cli.exit(e);
    return code == 0 ? 0 : kUsageError;
  }
  return status;
}

}  // namespace salesflow::app
