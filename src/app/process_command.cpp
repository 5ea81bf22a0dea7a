// `salesflow process`: the worker's pipeline for objects named on the command
// line (or every object under a prefix), without a queue.

#include <fmt/core.h>

#include <atomic>
#include <mutex>
#include <thread>

#include "app/detail/aws_clients.hpp"
#include "app/detail/commands.hpp"
#include "app/detail/progress.hpp"
#include "app/detail/signals.hpp"
#include "app/observe.hpp"
#include "base/fatal.hpp"

namespace salesflow::app {
namespace {

struct ProcessOptions {
  std::vector<std::string> urls;
  bool recursive = false;
};

struct S3Url {
  std::string bucket;
  std::string key;
};

tl::expected<S3Url, std::string> parse_s3_url(std::string_view url) {
  constexpr std::string_view kScheme = "s3://";
  if (url.substr(0, kScheme.size()) != kScheme) {
    return tl::make_unexpected(fmt::format("{}: not an s3://bucket/key URL", url));
  }
  url.remove_prefix(kScheme.size());
  const auto slash = url.find('/');
  S3Url parsed{std::string(url.substr(0, slash)), slash == std::string_view::npos
                                                      ? std::string()
                                                      : std::string(url.substr(slash + 1))};
  if (parsed.bucket.empty()) {
    return tl::make_unexpected(fmt::format("s3://{}: no bucket", url));
  }
  return parsed;
}

struct Target {
  pipeline::ObjectVersion version;
  std::uint64_t size = 0;
};

tl::expected<std::vector<Target>, std::string> expand(AwsClients& aws,
                                                      const ProcessOptions& options) {
  std::vector<Target> targets;
  for (const auto& url : options.urls) {
    auto parsed = parse_s3_url(url);
    if (!parsed) {
      return tl::make_unexpected(parsed.error());
    }
    if (!options.recursive) {
      if (parsed->key.empty()) {
        return tl::make_unexpected(url + ": names a bucket; add a key, or --recursive");
      }
      targets.push_back(Target{{parsed->bucket, parsed->key, "", ""}, 0});
      continue;
    }
    auto listed = aws.s3().list_all_objects(parsed->bucket, parsed->key);
    if (!listed) {
      return tl::make_unexpected(url + ": " + listed.error().to_string());
    }
    for (const auto& object : *listed) {
      if (!object.key.empty() && object.key.back() == '/') {
        continue;  // a "folder" placeholder
      }
      targets.push_back(Target{{parsed->bucket, object.key, "", ""}, object.size});
    }
  }
  return targets;
}

int run_process(const Settings& settings, const ProcessOptions& options) {
  // First, before any thread exists, so every thread inherits the blocked signals.
  // A process stopped before its objects are done exits non-zero, also through
  // the watchdog: the caller must rerun it to finish them (they resume).
  StopSignals signals(std::chrono::seconds(settings.grace_period_s), kExitFindings);
  Observers observers(settings);
  if (!observers.ok()) {
    fmt::print(stderr, "salesflow process: {}\n", observers.error());
    return kExitUsage;
  }
  ObjectProgress progress(true);
  observers.add(progress);  // before the first event
  // Declared after the observers, so destroyed before them.
  const auto last_words = signals.on_forced_exit([&observers] { observers.flush(); });
  auto rules = load_rules(settings);
  if (!rules) {
    fmt::print(stderr, "salesflow process: {}\n", rules.error());
    return kExitUsage;
  }
  auto aws = AwsClients::create(settings, observers.request_observer());
  if (!aws) {
    fmt::print(stderr, "salesflow process: {}\n", aws.error());
    return kExitUsage;
  }
  auto targets = expand(**aws, options);
  if (!targets) {
    fmt::print(stderr, "salesflow process: {}\n", targets.error());
    return kExitUsage;
  }
  std::uint64_t total_bytes = 0;
  for (const auto& target : *targets) {
    total_bytes += target.size;
  }

  progress.begin(fmt::format("{} object(s)", targets->size()), total_bytes);
  auto jobs = make_job_environment(**aws, settings, std::move(*rules), &observers.observer());
  if (!jobs) {
    fmt::print(stderr, "salesflow process: {}\n", jobs.error());
    return kExitUsage;
  }
  std::mutex mutex;
  std::size_t next = 0;
  int failures = 0;
  const auto work = [&] {
    core::RecordValidator validator((*jobs)->rules());
    for (;;) {
      Target target;
      {
        const std::scoped_lock lock(mutex);
        if (next == targets->size() || signals.stop().load()) {
          return;
        }
        target = (*targets)[next++];
      }
      const auto result =
          pipeline::run_object_job(**jobs, validator, target.version, target.size, &signals.stop());
      if (!pipeline::settles_notification(result.outcome)) {
        const std::scoped_lock lock(mutex);
        ++failures;
      }
    }
  };
  std::vector<std::thread> threads;
  const auto count = std::min<std::size_t>(static_cast<std::size_t>(settings.objects_in_flight),
                                           std::max<std::size_t>(1, targets->size()));
  for (std::size_t i = 0; i < count; ++i) {
    threads.emplace_back([&work] { base::run_or_die("process object thread", work); });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  progress.done();
  return failures == 0 && !signals.stop().load() ? kExitOk : kExitFindings;
}

}  // namespace

void add_process_command(CLI::App& root, Settings& settings, int& status) {
  auto options = std::make_shared<ProcessOptions>();
  auto* command = root.add_subcommand(
      "process",
      "Run named objects (or, with --recursive, every object under a prefix) through the same\n"
      "pipeline as the worker, without a queue: a backfill. Objects the ledger knows as done\n"
      "are skipped. Exit status: 0 every object settled, 1 some failed (rerun to resume them),\n"
      "2 usage or configuration error.");
  command
      ->add_option("urls", options->urls, "s3://bucket/key, or s3://bucket/prefix with --recursive")
      ->required();
  command->add_flag("--recursive", options->recursive, "Every object under each prefix");
  add_processing_options(*command, settings);
  command
      ->add_option("--grace-period", settings.grace_period_s,
                   "Seconds to checkpoint after SIGTERM/SIGINT before exiting")
      ->capture_default_str();
  command->callback([&settings, &status, options] { status = run_process(settings, *options); });
}

}  // namespace salesflow::app
