#pragma once
// The worker's Prometheus metrics (names prefixed salesflow_), optionally
// served at http://HOST:PORT/metrics. Every method is thread-safe; the ones
// called per record batch or per AWS request look up cached series and do not
// allocate after the first call for a given label set.

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <tl/expected.hpp>
#include <vector>

#include "core/object_validator.hpp"
#include "pipeline/object_processor.hpp"

namespace prometheus {
class Counter;
class Exposer;
class Gauge;
class Histogram;
class Registry;
template <typename T>
class Family;
}  // namespace prometheus

namespace salesflow::app {

// Worker outcomes for an object that never reached the processor.
inline constexpr std::string_view kObjectSkippedDone = "skipped_done";  // the ledger says done
inline constexpr std::string_view kObjectLeaseBusy = "lease_busy";      // another worker holds it
inline constexpr std::string_view kObjectNotFound = "not_found";  // deleted before it was read
// salesflow's own DLQ offload object (never input)
inline constexpr std::string_view kObjectOwnOutput = "own_output";

class Metrics {
 public:
  // A registry only: no endpoint (`serialize` still shows everything).
  Metrics();
  ~Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  // A registry served at http://`address`/metrics when `address` (HOST:PORT,
  // [IPv6]:PORT; port 0 picks a free one) is not empty. An error for an
  // address that does not parse or cannot be bound.
  [[nodiscard]] static tl::expected<std::unique_ptr<Metrics>, std::string> create(
      std::string_view address);

  // The port the endpoint listens on, if it is serving.
  [[nodiscard]] std::optional<int> port() const;

  // The text exposition format, as a scrape would return it.
  std::string serialize() const;

  // One object through the processor. Records and rejection reasons are
  // counted only for completed objects, so each object's records count once
  // however many runs it took; bytes, items put and DLQ messages are the work
  // of this run whatever its status.
  void object_finished(const pipeline::ObjectReport& report, double seconds);
  // An object the worker did not process, with a status such as kObjectSkippedDone.
  void object_skipped(std::string_view status);

  void notification_received(pipeline::NotificationKind kind);

  // Ledger writes after an object's run that did not happen (see
  // pipeline::JobResult::ledger_failures): no record lost, work or time is.
  void ledger_failed(std::size_t count);
  // A refresh of temporary credentials ahead of their expiry failed.
  void credentials_refresh_failed();

  // One AWS call begun: in flight until its request_finished.
  void request_started();
  // One AWS call, after its last attempt: `attempts` - 1 retries.
  void request_finished(std::string_view service, std::string_view operation, double seconds,
                        int attempts, bool throttled, bool ok);

  void set_objects_in_flight(int count);
  // Age of the oldest message in the last receive (see message_age_seconds).
  void set_queue_lag(double seconds);

 private:
  struct OperationSeries {
    prometheus::Histogram* duration;
    prometheus::Counter* retries;
    prometheus::Counter* throttles;
    prometheus::Counter* errors;
  };

  const OperationSeries& operation_series(std::string_view service, std::string_view operation);
  prometheus::Counter& object_status_counter(std::string_view status);

  std::shared_ptr<prometheus::Registry> registry_;

  prometheus::Family<prometheus::Counter>& records_family_;
  prometheus::Counter& records_written_;
  prometheus::Counter& records_rejected_;
  prometheus::Counter& records_duplicate_;
  prometheus::Family<prometheus::Counter>& rejections_family_;
  std::vector<prometheus::Counter*> rejections_by_reason_;  // indexed by core::ReasonCode
  prometheus::Counter& file_faults_;
  prometheus::Family<prometheus::Counter>& objects_family_;
  prometheus::Counter& bytes_read_;
  prometheus::Counter& bytes_decompressed_;
  prometheus::Counter& items_put_;
  prometheus::Counter& dlq_messages_;
  prometheus::Counter& checkpoint_failures_;
  prometheus::Counter& ledger_failures_;
  prometheus::Counter& credential_refresh_failures_;
  prometheus::Histogram& object_duration_;
  prometheus::Family<prometheus::Counter>& notifications_family_;
  std::vector<prometheus::Counter*>
      notifications_by_kind_;  // indexed by pipeline::NotificationKind
  prometheus::Family<prometheus::Histogram>& request_duration_family_;
  prometheus::Family<prometheus::Counter>& retries_family_;
  prometheus::Family<prometheus::Counter>& throttles_family_;
  prometheus::Family<prometheus::Counter>& request_errors_family_;
  prometheus::Gauge& objects_in_flight_;
  prometheus::Gauge& requests_in_flight_;
  prometheus::Gauge& queue_lag_;

  // Series created on first use, then found under a shared lock.
  mutable std::shared_mutex series_mutex_;
  std::map<std::string, std::map<std::string, OperationSeries, std::less<>>, std::less<>>
      operations_;
  std::map<std::string, prometheus::Counter*, std::less<>> objects_by_status_;

  // Declared last so it stops serving before the registry goes away.
  std::unique_ptr<prometheus::Exposer> exposer_;
};

// Seconds between an SQS SentTimestamp attribute (milliseconds since the
// epoch, as text) and `now`; nothing for text that is not such a number.
// Clock skew can make it slightly negative; it is clamped to 0.
[[nodiscard]] std::optional<double> message_age_seconds(std::string_view sent_timestamp_ms,
                                                        std::chrono::system_clock::time_point now);

}  // namespace salesflow::app
