// `salesflow worker`: the event-driven processor.

#include <fmt/core.h>

#include "app/detail/aws_clients.hpp"
#include "app/detail/commands.hpp"
#include "app/detail/signals.hpp"
#include "app/detail/worker.hpp"
#include "app/observe.hpp"

namespace salesflow::app {
namespace {

int run_worker(const Settings& settings) {
  // First, before any thread exists, so every thread inherits the blocked signals.
  StopSignals signals(std::chrono::seconds(settings.grace_period_s));
  Observers observers(settings);
  if (!observers.ok()) {
    fmt::print(stderr, "salesflow worker: {}\n", observers.error());
    return kExitUsage;
  }
  // Declared after the observers, so destroyed before them.
  const auto last_words = signals.on_forced_exit([&observers] {
    observers.note(
        pipeline::Severity::warn,
        "grace period over: exiting with work in flight; it resumes from its checkpoint");
    observers.flush();
  });
  auto rules = load_rules(settings);
  if (!rules) {
    fmt::print(stderr, "salesflow worker: {}\n", rules.error());
    return kExitUsage;
  }
  auto aws = AwsClients::create(settings, observers.request_observer());
  if (!aws) {
    fmt::print(stderr, "salesflow worker: {}\n", aws.error());
    return kExitUsage;
  }
  Worker worker(**aws, settings, std::move(*rules), observers.observer());
  observers.note(pipeline::Severity::info,
                 fmt::format("worker started: queue {}, table {}, DLQ {}",
                             settings.resources.notification_queue, settings.resources.table,
                             settings.resources.dlq));
  auto summary = worker.run(signals.stop());
  if (!summary) {
    fmt::print(stderr, "salesflow worker: {}\n", summary.error());
    return kExitUsage;
  }
  observers.note(
      pipeline::Severity::info,
      fmt::format("worker stopped: {} notifications, {} objects, {} completed, {} to retry",
                  summary->messages, summary->objects, summary->completed, summary->failed));
  observers.flush();
  return kExitOk;
}

}  // namespace

void add_worker_command(CLI::App& root, Settings& settings, int& status) {
  auto* command = root.add_subcommand(
      "worker",
      "Long-poll the notification queue; run every new object through validation into the table\n"
      "and the DLQ; delete a notification only once all its records are durable. SIGTERM/SIGINT:\n"
      "stop receiving, finish or checkpoint what is in flight within the grace period, exit 0.");
  add_processing_options(*command, settings);
  command
      ->add_option("--exit-when-idle", settings.exit_when_idle_s,
                   "Exit once the queue has been empty this many seconds (batch runs)")
      ->check(CLI::Range(0.0, 86400.0));
  command
      ->add_option("--visibility-timeout", settings.visibility_timeout_s,
                   "Seconds a received notification stays invisible; a heartbeat extends it")
      ->check(CLI::Range(10, 43200))
      ->capture_default_str();
  command
      ->add_option("--grace-period", settings.grace_period_s, "Seconds from SIGTERM/SIGINT to exit")
      ->check(CLI::Range(1, 3600))
      ->capture_default_str();
  command
      ->add_option("--max-receive-count", settings.max_receive_count,
                   "The queue's redrive maxReceiveCount (for log messages; set by init)")
      ->capture_default_str();
  command->callback([&settings, &status] { status = run_worker(settings); });
}

}  // namespace salesflow::app
