#include "app/cli.hpp"

#include <fmt/core.h>
#include <fmt/format.h>
#include <unistd.h>

#include <CLI/CLI.hpp>

#include "app/detail/commands.hpp"
#include "app/settings.hpp"

namespace salesflow::app {

int run_cli(int argc, char** argv) {
  CLI::App cli{
      "salesflow: sales-data files from S3, validated record by record into a DynamoDB table;\n"
      "incomplete records go to an SQS dead-letter queue with their reasons and raw text.\n"
      "AWS credentials, region and endpoints come from the standard AWS environment variables\n"
      "and files; the options below override them."};
  cli.footer(
      "Every long option, global or a command's, can also be set in the environment as\n"
      "SALESFLOW_<OPTION>, upper case with - as _ (--table: SALESFLOW_TABLE, --on-conflict:\n"
      "SALESFLOW_ON_CONFLICT; flags take true/false/1/0; SALESFLOW_CONFIG names the settings\n"
      "file). A flag beats its variable, which beats salesflow.toml, which beats the default.");
  cli.set_version_flag("--version", SALESFLOW_VERSION);
  cli.require_subcommand(1);
  cli.fallthrough();
  cli.allow_config_extras(
      CLI::config_extras_mode::error);  // a misspelt key is an error, not ignored

  Settings settings;
  int status = kExitOk;
  add_global_options(cli, settings);
  add_validate_command(cli, settings, status);
  add_init_command(cli, settings, status);
  add_worker_command(cli, settings, status);
  add_process_command(cli, settings, status);
  add_dlq_command(cli, settings, status);
  add_lambda_command(cli, settings, status);
  add_console_command(cli, settings, status);
  const EnvironmentOptions environment(cli);  // after every option is added
  // Before any command runs (they run in their subcommands' callbacks): the
  // command's name, for the User-Agent of its AWS requests.
  cli.parse_complete_callback([&cli, &settings] {
    const auto commands = cli.get_subcommands();
    settings.command = commands.empty() ? "" : commands.front()->get_name();
  });

  // A warning, not an error: scripts keep variables of their own under the prefix.
  if (const auto unknown = environment.unknown_variables(environ); !unknown.empty()) {
    fmt::print(stderr, "salesflow: warning: ignoring {}: no such option (salesflow --help)\n",
               fmt::join(unknown, ", "));
  }

  try {
    cli.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const auto variable_message = environment.variable_error(e);
    if (e.get_exit_code() != 0 && cli.got_subcommand("lambda")) {
      report_lambda_usage_error(variable_message ? *variable_message : std::string(e.what()));
    }
    if (variable_message) {
      return cli.exit(CLI::ValidationError(*variable_message, e.get_exit_code())) == 0 ? kExitOk
                                                                                       : kExitUsage;
    }
    const int code = cli.exit(e);
    return code == 0 ? kExitOk : kExitUsage;
  }
  return status;
}

}  // namespace salesflow::app
