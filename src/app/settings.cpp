#include "app/settings.hpp"

#include <CLI/CLI.hpp>
#include <cerrno>
#include <cstring>

#include "base/file.hpp"

namespace salesflow::app {

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

void add_processing_options(CLI::App& command, Settings& settings) {
  command
      .add_option("--on-conflict", settings.on_conflict,
                  "A record whose key the table already holds with other content: overwrite "
                  "(newest wins) or reject (to the DLQ as duplicate_key)")
      ->transform(CLI::CheckedTransformer(
          std::map<std::string, ConflictMode>{{"overwrite", ConflictMode::overwrite},
                                              {"reject", ConflictMode::reject}},
          CLI::ignore_case))
      ->capture_default_str();
  command.add_option("--objects", settings.objects_in_flight, "Objects processed at once")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  command
      .add_option("--requests", settings.requests_in_flight,
                  "AWS write requests in flight per object")
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
