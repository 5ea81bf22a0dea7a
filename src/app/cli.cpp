#include "app/cli.hpp"

#include <CLI/CLI.hpp>

#include "app/commands.hpp"
#include "app/settings.hpp"

namespace salesflow::app {

int run_cli(int argc, char** argv) {
  CLI::App cli{
      "salesflow: sales-data files from S3, validated record by record into a DynamoDB table;\n"
      "incomplete records go to an SQS dead-letter queue with their reasons and raw text.\n"
      "AWS credentials, region and endpoints come from the standard AWS environment variables\n"
      "and files; the options below override them."};
  cli.set_version_flag("--version", SALESFLOW_VERSION);
  cli.require_subcommand(1);
  cli.fallthrough();
  cli.allow_config_extras(CLI::config_extras_mode::error);  // a misspelt key is an error, not ignored

  Settings settings;
  int status = kExitOk;
  add_global_options(cli, settings);
  add_validate_command(cli, settings, status);
  add_init_command(cli, settings, status);
  add_worker_command(cli, settings, status);
  add_process_command(cli, settings, status);
  add_dlq_command(cli, settings, status);
  add_lambda_command(cli, settings, status);

  try {
    cli.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = cli.exit(e);
    return code == 0 ? kExitOk : kExitUsage;
  }
  return status;
}

}  // namespace salesflow::app
