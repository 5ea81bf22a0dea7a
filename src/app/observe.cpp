#include "app/observe.hpp"

#include <fmt/core.h>

#include <iostream>

#include "pipeline/object_job.hpp"

namespace salesflow::app {

std::optional<std::string_view> skipped_status(const pipeline::JobResult& result) {
  using pipeline::JobOutcome;
  switch (result.outcome) {
    case JobOutcome::already_done:
      return kObjectSkippedDone;
    case JobOutcome::held:
      return kObjectLeaseBusy;
    case JobOutcome::own_output:
      return kObjectOwnOutput;
    case JobOutcome::missing:
    case JobOutcome::superseded:
      // Gone before a record was read; otherwise the processor's report counts.
      if (result.report.tally.records == 0) {
        return kObjectNotFound;
      }
      return std::nullopt;
    case JobOutcome::completed:
    case JobOutcome::failed:
    case JobOutcome::interrupted:
    case JobOutcome::lease_lost:
      return std::nullopt;
  }
  return std::nullopt;
}

void LogObserver::object_finished(const pipeline::ObjectVersion& object,
                                  const pipeline::JobResult& result) {
  using pipeline::JobOutcome;
  const auto skipped = skipped_status(result);
  if (!skipped) {
    log_.log_object(result, object.bucket, object.key, result.elapsed.count(),
                    extra_ ? extra_(object, result) : Fields());
    return;
  }
  Fields fields;
  fields.add("bucket", object.bucket).add("key", object.key);
  if (result.outcome == JobOutcome::missing || result.outcome == JobOutcome::superseded) {
    log_.warn(
        "object skipped",
        fields.add("reason", pipeline::to_string(result.outcome)).add("error", result.describe()));
    return;
  }
  log_.info("object skipped", fields.add("reason", result.describe()));
}

void LogObserver::checkpoint_saved(const pipeline::ObjectVersion& object,
                                   const pipeline::Checkpoint& checkpoint,
                                   const aws::Result<pipeline::LeaseState>& saved) {
  if (!log_.enabled(LogLevel::debug)) {
    return;
  }
  Fields fields;
  fields.add("bucket", object.bucket)
      .add("key", object.key)
      .add("next_index", checkpoint.next_index)
      .add("offset", checkpoint.offset);
  if (saved) {
    fields.add("lease", pipeline::to_string(*saved));
  } else {
    fields.add("error", saved.error().to_string());
  }
  log_.debug(saved ? "checkpoint saved" : "checkpoint not saved", fields);
}

void LogObserver::note(pipeline::Severity severity, std::string_view text) {
  switch (severity) {
    case pipeline::Severity::debug:
      log_.debug(text);
      return;
    case pipeline::Severity::info:
      log_.info(text);
      return;
    case pipeline::Severity::warn:
      log_.warn(text);
      return;
    case pipeline::Severity::error:
      log_.error(text);
      return;
  }
}

void LogObserver::on_retry(const aws::RetryRecord& retry) {
  if (!log_.enabled(LogLevel::debug)) {
    return;
  }
  log_.debug("retrying an AWS request", Fields()
                                            .add("service", retry.service)
                                            .add("operation", retry.operation)
                                            .add("attempt", retry.attempt)
                                            .add("error_code", retry.error.code)
                                            .add("delay_ms", retry.delay.count()));
}

void LogObserver::on_credentials_refresh_failure(const aws::AwsError& error,
                                                 std::chrono::seconds valid_for) {
  log_.warn(
      "refreshing the AWS credentials failed; requests keep signing with the cached "
      "ones until they expire, and the refresh is tried again in 10 s",
      Fields().add("error", error.to_string()).add("valid_for_s", valid_for.count()));
}

void MetricsObserver::object_finished(const pipeline::ObjectVersion& /*object*/,
                                      const pipeline::JobResult& result) {
  metrics_.ledger_failed(result.ledger_failures.size());
  if (const auto skipped = skipped_status(result)) {
    metrics_.object_skipped(*skipped);
    return;
  }
  metrics_.object_finished(result.report, result.elapsed.count());
}

void MetricsObserver::notification_received(pipeline::NotificationKind kind) {
  metrics_.notification_received(kind);
}

void MetricsObserver::queue_lag(double seconds) {
  metrics_.set_queue_lag(seconds);
}

void MetricsObserver::objects_in_flight(int count) {
  metrics_.set_objects_in_flight(count);
}

void MetricsObserver::on_request_started(std::string_view /*service*/,
                                         std::string_view /*operation*/) {
  metrics_.request_started();
}

void MetricsObserver::on_request(const aws::RequestRecord& record) {
  metrics_.request_finished(record.service, record.operation, record.elapsed.count(),
                            record.attempts, record.throttled, record.ok);
}

void MetricsObserver::on_credentials_refresh_failure(const aws::AwsError& /*error*/,
                                                     std::chrono::seconds /*valid_for*/) {
  metrics_.credentials_refresh_failed();
}

Observers::Observers(const Settings& settings, Log::Stream stream)
    : log_(parse_log_level(settings.log_level).value_or(LogLevel::info), stream),
      log_observer_(log_) {
  auto metrics = Metrics::create(settings.metrics_addr);
  if (!metrics) {
    error_ = "--metrics-addr " + settings.metrics_addr + ": " + metrics.error();
    metrics_ = std::make_unique<Metrics>();
  } else {
    metrics_ = std::move(*metrics);
  }
  metrics_observer_ = std::make_unique<MetricsObserver>(*metrics_);
  all_.add(log_observer_);
  all_.add(*metrics_observer_);
}

void Observers::flush() {
  std::cerr.flush();
}

}  // namespace salesflow::app
