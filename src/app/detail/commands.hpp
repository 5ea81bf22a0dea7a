#pragma once
// Each subcommand registers itself on the root CLI::App. `settings` is filled
// by the parser (flags, salesflow.toml) before a command's callback runs; the
// callback stores the process exit status in `status`.

#include <CLI/CLI.hpp>

#include "app/settings.hpp"

namespace salesflow::app {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFindings = 1;  // the job ran and found problems (rejects, failed objects)
inline constexpr int kExitUsage = 2;     // bad flags, configuration or unreadable input

void add_validate_command(CLI::App& root, Settings& settings, int& status);
void add_init_command(CLI::App& root, Settings& settings, int& status);
void add_worker_command(CLI::App& root, Settings& settings, int& status);
void add_process_command(CLI::App& root, Settings& settings, int& status);
void add_dlq_command(CLI::App& root, Settings& settings, int& status);
// `dlq export`, `dlq replay`, `dlq discard` (src/app/dlq_correction_command.cpp).
void add_dlq_correction_commands(CLI::App& dlq, Settings& settings, int& status);
void add_lambda_command(CLI::App& root, Settings& settings, int& status);
void add_console_command(CLI::App& root, Settings& settings, int& status);
// Tells the Lambda Runtime API, when the process runs as a function
// (AWS_LAMBDA_RUNTIME_API set), that `salesflow lambda` cannot start because
// its options or SALESFLOW_* variables are unusable: the invocation then fails
// with Salesflow.InvalidSettings and this message instead of a bare
// Runtime.ExitError. Does nothing outside Lambda.
void report_lambda_usage_error(const std::string& message);

}  // namespace salesflow::app
