#include "app/observe.hpp"

#include <iostream>

namespace salesflow::app {
namespace {

class MetricsRequestObserver final : public aws::RequestObserver {
 public:
  MetricsRequestObserver(Metrics& metrics, Log& log) : metrics_(metrics), log_(log) {}
  void on_request(const aws::RequestRecord& record) override {
    metrics_.request_finished(record.service, record.operation, record.elapsed.count(),
                              record.attempts, record.throttled, record.ok);
  }
  void on_credentials_refresh_failure(const aws::AwsError& error,
                                      std::chrono::seconds valid_for) override {
    metrics_.credentials_refresh_failed();
    log_.warn(
        "refreshing the AWS credentials failed; requests keep signing with the cached "
        "ones until they expire, and the refresh is tried again in 10 s",
        Fields().add("error", error.to_string()).add("valid_for_s", valid_for.count()));
  }

 private:
  Metrics& metrics_;
  Log& log_;
};

}  // namespace

Observers::Observers(const Settings& settings)
    : log_(parse_log_level(settings.log_level).value_or(LogLevel::info)) {
  auto metrics = Metrics::create(settings.metrics_addr);
  if (!metrics) {
    error_ = "--metrics-addr " + settings.metrics_addr + ": " + metrics.error();
    metrics_ = std::make_unique<Metrics>();
  } else {
    metrics_ = std::move(*metrics);
  }
  requests_ = std::make_shared<MetricsRequestObserver>(*metrics_, log_);
}

void Observers::object_done(std::string_view bucket, std::string_view key,
                            const pipeline::JobResult& result) {
  using pipeline::JobOutcome;
  const double seconds = result.elapsed.count();
  metrics_->ledger_failed(result.ledger_failures.size());
  switch (result.outcome) {
    case JobOutcome::already_done:
      metrics_->object_skipped(kObjectSkippedDone);
      log_.info("object skipped",
                Fields().add("bucket", bucket).add("key", key).add("reason", result.describe()));
      return;
    case JobOutcome::held:
      metrics_->object_skipped(kObjectLeaseBusy);
      log_.info("object skipped",
                Fields().add("bucket", bucket).add("key", key).add("reason", result.describe()));
      return;
    case JobOutcome::own_output:
      metrics_->object_skipped(kObjectOwnOutput);
      log_.info("object skipped",
                Fields().add("bucket", bucket).add("key", key).add("reason", result.describe()));
      return;
    case JobOutcome::missing:
    case JobOutcome::superseded:
      if (result.report.tally.records == 0) {
        metrics_->object_skipped(kObjectNotFound);
        log_.warn("object skipped", Fields()
                                        .add("bucket", bucket)
                                        .add("key", key)
                                        .add("reason", pipeline::to_string(result.outcome))
                                        .add("error", result.describe()));
        return;
      }
      break;
    case JobOutcome::completed:
    case JobOutcome::failed:
    case JobOutcome::interrupted:
    case JobOutcome::lease_lost:
      break;
  }
  metrics_->object_finished(result.report, seconds);
  log_.log_object(result, bucket, key, seconds);
}

void Observers::note(std::string_view level, const std::string& text) {
  const LogLevel parsed = parse_log_level(level).value_or(LogLevel::info);
  log_.write(parsed, text);
}

void Observers::queue_lag(double seconds) {
  metrics_->set_queue_lag(seconds);
}

void Observers::objects_in_flight(int count) {
  metrics_->set_objects_in_flight(count);
}

void Observers::flush() {
  std::cerr.flush();
}

}  // namespace salesflow::app
