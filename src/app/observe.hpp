#pragma once
// The log and the metrics of one command run, fed by the same events.

#include <memory>
#include <string>

#include "app/log.hpp"
#include "app/metrics.hpp"
#include "app/settings.hpp"
#include "aws/service.hpp"
#include "pipeline/object_job.hpp"

namespace salesflow::app {

class Observers {
 public:
  // Log level from settings.log_level; a metrics endpoint when settings.metrics_addr is set.
  explicit Observers(const Settings& settings);

  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }

  // The per-object log line and the object metrics.
  void object_done(std::string_view bucket, std::string_view key,
                   const pipeline::JobResult& result);
  void note(std::string_view level, const std::string& text);
  void queue_lag(double seconds);
  void objects_in_flight(int count);
  void flush();

  // Feeds the AWS request metrics (latency, retries, throttles per operation).
  std::shared_ptr<aws::RequestObserver> request_observer() const { return requests_; }

  Log& log() { return log_; }
  Metrics& metrics() { return *metrics_; }

 private:
  Log log_;
  std::unique_ptr<Metrics> metrics_;
  std::shared_ptr<aws::RequestObserver> requests_;
  std::string error_;
};

}  // namespace salesflow::app
