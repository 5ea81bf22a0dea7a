#include "app/cli.hpp"

#include <CLI/CLI.hpp>

namespace salesflow::app {

int run_cli(int argc, char** argv) {
  CLI::App cli{"salesflow: S3 sales-data files validated into DynamoDB, rejects to an SQS DLQ"};
  cli.set_version_flag("--version", SALESFLOW_VERSION);
  cli.require_subcommand(0, 1);
  try {
    cli.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return cli.exit(e) == 0 ? 0 : 2;
  }
  if (cli.get_subcommands().empty()) {
    std::puts(cli.help().c_str());
  }
  return 0;
}

}  // namespace salesflow::app
