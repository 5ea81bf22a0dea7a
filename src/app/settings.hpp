#pragma once
// Everything the commands can be told, from (in rising precedence) built-in
// defaults, an optional salesflow.toml, the standard AWS environment variables,
// the SALESFLOW_<OPTION> environment variables and command-line flags.

#include <cstddef>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <tl/expected.hpp>
#include <vector>

#include "core/duplicate_tracking.hpp"
#include "core/reader.hpp"
#include "core/rules.hpp"

namespace CLI {
class App;
class ParseError;
}  // namespace CLI

namespace salesflow::app {

enum class ConflictMode { overwrite, reject };

struct ResourceNames {
  std::string bucket = "salesflow-incoming";
  std::string table = "salesflow-orders";
  std::string ledger_table = "salesflow-ledger";
  std::string notification_queue = "salesflow-notifications";
  std::string poison_queue = "salesflow-notifications-poison";
  std::string dlq = "salesflow-dlq";
  std::string key_prefix;  // notification filter; empty: every key
  std::string key_suffix;
  // Oversize DLQ envelopes go to s3://<offload bucket>/<offload_prefix>/<id>.json.
  // Empty offload_bucket: "<bucket>-dlq-offload", a bucket of its own, so that
  // no notification of the input bucket can announce them.
  std::string offload_bucket;
  std::string offload_prefix = "salesflow-dlq-offload";

  [[nodiscard]] std::string offload_bucket_name() const {
    return offload_bucket.empty() ? bucket + "-dlq-offload" : offload_bucket;
  }
};

struct Settings {
  std::string command;  // the command that runs (set by the parser; names it in the User-Agent)
  ResourceNames resources;
  std::string rules_file;       // empty: the default completeness rules
  std::string format = "auto";  // auto | jsonl | array | wrapped
  std::string wrapper_member = "orders";
  ConflictMode on_conflict = ConflictMode::overwrite;

  // Overrides of the standard AWS environment (AWS_ENDPOINT_URL*, AWS_REGION, AWS_PROFILE).
  std::string endpoint_url;
  std::string region;
  std::string profile;

  // Worker behaviour.
  int objects_in_flight = 4;  // objects processed at once by one worker
  // The most AWS write requests in flight per object; the number adapts below it.
  int requests_in_flight = 256;
  int visibility_timeout_s = 60;        // notification visibility; the heartbeat extends it
  int lease_s = 120;                    // ledger lease; a dead worker's object is resumed after it
  std::size_t checkpoint_every = 5000;  // records between ledger checkpoints
  std::size_t dlq_max_message_bytes = 256 * 1024;
  int max_receive_count = 5;     // redrive to the poison queue after this many receives
  double exit_when_idle_s = -1;  // < 0: run until signalled
  int grace_period_s = 30;       // SIGTERM: time to finish or checkpoint in-flight objects
  // Lambda: stop reading this long before the invocation's deadline, to drain
  // in-flight writes, checkpoint and release the leases.
  double deadline_margin_s = 5;
  std::string metrics_addr;  // HOST:PORT; empty: no metrics endpoint

  // Duplicate tracking (validate, worker, process, lambda): the memory all
  // objects in flight may hold for it together, in MiB (0: no bound, never
  // spill), and where it spills beyond that (empty: $TMPDIR, else /tmp).
  // 64 MiB leaves a 256 MB Lambda room for the rest of the process.
  std::size_t dedup_memory_mib = 64;
  std::string dedup_dir;
  std::string log_level = "info";
};

// The rules file's rules, or the built-in defaults; errors name the file and line.
[[nodiscard]] tl::expected<core::Rules, std::string> load_rules(const Settings& settings);

core::ReaderOptions reader_options(const Settings& settings);

// Registers the options shared by every command on the root command.
void add_global_options(CLI::App& root, Settings& settings);
// Registers --on-conflict (also part of the processing options).
void add_conflict_option(CLI::App& command, Settings& settings);
// Registers the options of commands that process objects (worker, process).
void add_processing_options(CLI::App& command, Settings& settings);
// Registers --dedup-memory and --dedup-dir (also part of the processing options).
void add_duplicate_tracking_options(CLI::App& command, Settings& settings);

// One object's duplicate tracking when `objects` are processed at once: an
// equal share of --dedup-memory, scratch files in --dedup-dir ($TMPDIR, /tmp).
[[nodiscard]] core::DuplicateTrackingOptions duplicate_tracking_options(const Settings& settings,
                                                                        int objects);

// The variable of a long option: "--on-conflict" -> "SALESFLOW_ON_CONFLICT".
[[nodiscard]] std::string environment_name(std::string_view long_option);

// SALESFLOW_* names the build and test tooling uses for itself; never options.
[[nodiscard]] bool reserved_environment_name(std::string_view name);

// Makes every long option of root and of its subcommands (call it once all are
// added) settable as SALESFLOW_<OPTION>, except --help and --version; positional
// arguments are not options. Precedence: flag > variable > salesflow.toml >
// default. A command's variables are read only when that command runs, so a
// variable meant for one command cannot disturb another's settings.
class EnvironmentOptions {
 public:
  explicit EnvironmentOptions(CLI::App& root);

  // A bad value that came from a variable, restated under the variable's name:
  // "SALESFLOW_OBJECTS=abc: --objects: ...". Nothing for other errors.
  [[nodiscard]] std::optional<std::string> variable_error(const CLI::ParseError& error) const;

  // The SALESFLOW_* names in env (NAME=VALUE entries, null-terminated) that name
  // no option and are not reserved for tooling, sorted.
  [[nodiscard]] std::vector<std::string> unknown_variables(const char* const* env) const;

  // The value being validated most recently, and its option's variable.
  struct LastValue {
    std::string variable;
    std::string option;
    std::string value;
  };

 private:
  std::shared_ptr<LastValue> last_ = std::make_shared<LastValue>();
  std::set<std::string, std::less<>> names_;
  const CLI::App* root_;
};

}  // namespace salesflow::app
