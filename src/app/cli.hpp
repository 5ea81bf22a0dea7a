#pragma once

namespace salesflow::app {

// Parses the command line, runs the chosen subcommand and returns the process
// exit status: 0 success, 1 the job found problems (e.g. rejected records),
// 2 usage or configuration errors.
int run_cli(int argc, char** argv);

}  // namespace salesflow::app
