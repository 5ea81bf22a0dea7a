#pragma once
// The observers of one command run (see pipeline/observer.hpp): the log and
// the metrics, always; a command adds its own (the progress bar of `process`,
// the Lambda's metric lines) before the first event.

#include <functional>
#include <memory>
#include <string>

#include "app/log.hpp"
#include "app/metrics.hpp"
#include "app/settings.hpp"
#include "pipeline/observer.hpp"

namespace salesflow::app {

// The metric status of an object that was settled or left without being
// processed (kObjectSkippedDone, ...); none when it went through the processor.
[[nodiscard]] std::optional<std::string_view> skipped_status(const pipeline::JobResult& result);

// Events as log lines: one per finished object (object_fields), notes,
// credential refresh failures (warn) and retries (debug).
class LogObserver final : public pipeline::Observer {
 public:
  explicit LogObserver(Log& log) : log_(log) {}

  // Members added to every per-object line (the Lambda's request id and
  // metrics). Set before the first event; called on the object's thread.
  using ObjectLineExtra =
      std::function<Fields(const pipeline::ObjectVersion&, const pipeline::JobResult&)>;
  void extend_object_lines(ObjectLineExtra extra) { extra_ = std::move(extra); }

  void object_finished(const pipeline::ObjectVersion& object,
                       const pipeline::JobResult& result) override;
  void checkpoint_saved(const pipeline::ObjectVersion& object,
                        const pipeline::Checkpoint& checkpoint,
                        const aws::Result<pipeline::LeaseState>& saved) override;
  void note(pipeline::Severity severity, std::string_view text) override;
  void on_retry(const aws::RetryRecord& retry) override;
  void on_credentials_refresh_failure(const aws::AwsError& error,
                                      std::chrono::seconds valid_for) override;

 private:
  Log& log_;
  ObjectLineExtra extra_;
};

// Events as Prometheus series (see Metrics).
class MetricsObserver final : public pipeline::Observer {
 public:
  explicit MetricsObserver(Metrics& metrics) : metrics_(metrics) {}

  void object_finished(const pipeline::ObjectVersion& object,
                       const pipeline::JobResult& result) override;
  void notification_received(pipeline::NotificationKind kind) override;
  void queue_lag(double seconds) override;
  void objects_in_flight(int count) override;
  void on_request_started(std::string_view service, std::string_view operation) override;
  void on_request(const aws::RequestRecord& record) override;
  void on_credentials_refresh_failure(const aws::AwsError& error,
                                      std::chrono::seconds valid_for) override;

 private:
  Metrics& metrics_;
};

class Observers {
 public:
  // Log level from settings.log_level; a metrics endpoint when settings.metrics_addr is set.
  explicit Observers(const Settings& settings, Log::Stream stream = Log::Stream::stderr_lines);
  Observers(const Observers&) = delete;
  Observers& operator=(const Observers&) = delete;

  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }

  // Tells `observer` every event from now on; borrowed, it must outlive
  // these observers. Only before the first event.
  void add(pipeline::Observer& observer) { all_.add(observer); }

  // What the pipeline, the worker and the AWS clients are given.
  pipeline::Observer& observer() { return all_; }
  // The same, for the AWS clients (which share ownership of their observer):
  // it does not own the observers, so these must outlive every AWS client.
  std::shared_ptr<aws::RequestObserver> request_observer() {
    return {std::shared_ptr<void>(), &all_};
  }

  void note(pipeline::Severity severity, std::string_view text) { all_.note(severity, text); }
  void flush();

  Log& log() { return log_; }
  Metrics& metrics() { return *metrics_; }
  LogObserver& log_observer() { return log_observer_; }

 private:
  Log log_;
  std::unique_ptr<Metrics> metrics_;
  LogObserver log_observer_;
  std::unique_ptr<MetricsObserver> metrics_observer_;
  pipeline::ObserverList all_;
  std::string error_;
};

}  // namespace salesflow::app
