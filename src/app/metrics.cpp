#include "app/metrics.hpp"

#include <fmt/format.h>
#include <prometheus/counter.h>
#include <prometheus/exposer.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <charconv>
#include <exception>
#include <mutex>

#include "core/record.hpp"

namespace salesflow::app {
namespace {

using prometheus::Counter;
using prometheus::Family;
using prometheus::Gauge;
using prometheus::Histogram;

// From 10 ms to 30 min: small objects take milliseconds, multi-GB ones minutes.
const Histogram::BucketBoundaries kObjectBuckets = {0.01, 0.05, 0.1, 0.25, 0.5, 1,   2.5, 5,
                                                    10,   30,   60,  120,  300, 600, 1800};
// From 1 ms to 30 s: a loopback call to a retried-and-backed-off one.
const Histogram::BucketBoundaries kRequestBuckets = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                                     0.25,  0.5,    1,     2.5,  5,     10,   30};

Family<Counter>& counter_family(prometheus::Registry& registry, const std::string& name,
                                const std::string& help) {
  return prometheus::BuildCounter().Name(name).Help(help).Register(registry);
}

Gauge& single_gauge(prometheus::Registry& registry, const std::string& name,
                    const std::string& help) {
  return prometheus::BuildGauge().Name(name).Help(help).Register(registry).Add({});
}

// HOST:PORT or [IPv6]:PORT, with a numeric port; civetweb would read other
// suffixes (",", "s", "r") as more listeners or TLS.
tl::expected<void, std::string> check_address(std::string_view address) {
  const auto invalid = [&](std::string_view why) {
    return tl::unexpected(
        fmt::format("invalid metrics address \"{}\": {} (expected HOST:PORT)", address, why));
  };
  const auto colon = address.rfind(':');
  if (colon == std::string_view::npos) return invalid("no port");
  const std::string_view host = address.substr(0, colon);
  const std::string_view port = address.substr(colon + 1);
  if (host.empty()) return invalid("no host");
  if (host.find_first_of(", ") != std::string_view::npos) return invalid("bad host");
  if (host.find(':') != std::string_view::npos && !(host.front() == '[' && host.back() == ']')) {
    return invalid("an IPv6 host needs brackets");
  }
  unsigned value = 0;
  const auto [end, error] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || error != std::errc{} || end != port.data() + port.size() || value > 65535) {
    return invalid("bad port");
  }
  return {};
}

}  // namespace

Metrics::Metrics()
    : registry_(std::make_shared<prometheus::Registry>()),
      records_family_(counter_family(*registry_, "salesflow_records_total",
                                     "Records of completed objects, by outcome")),
      records_written_(records_family_.Add({{"outcome", "written"}})),
      records_rejected_(records_family_.Add({{"outcome", "rejected"}})),
      records_duplicate_(records_family_.Add({{"outcome", "duplicate"}})),
      rejections_family_(
          counter_family(*registry_, "salesflow_rejections_total",
                         "Rejected records of completed objects having a reason of each code")),
      file_faults_(counter_family(*registry_, "salesflow_file_faults_total",
                                  "Unparseable ranges of completed objects, sent to the DLQ")
                       .Add({})),
      objects_family_(counter_family(*registry_, "salesflow_objects_total",
                                     "Objects finished or skipped, by status")),
      bytes_read_(counter_family(*registry_, "salesflow_bytes_read_total",
                                 "Object bytes read from S3 (as stored, possibly compressed)")
                      .Add({})),
      bytes_decompressed_(counter_family(*registry_, "salesflow_bytes_decompressed_total",
                                         "Object bytes after decompression")
                              .Add({})),
      items_put_(counter_family(*registry_, "salesflow_items_put_total",
                                "Items written to the table by this process")
                     .Add({})),
      dlq_messages_(counter_family(*registry_, "salesflow_dlq_messages_total",
                                   "Messages sent to the dead-letter queue by this process")
                        .Add({})),
      checkpoint_failures_(
          counter_family(*registry_, "salesflow_checkpoint_failures_total",
                         "Checkpoints that could not be saved (a retry redoes the records since "
                         "the previous one)")
              .Add({})),
      ledger_failures_(
          counter_family(*registry_, "salesflow_ledger_failures_total",
                         "Ledger writes after an object's run that failed (a checkpoint, "
                         "releasing the lease, closing the entry)")
              .Add({})),
      credential_refresh_failures_(
          counter_family(*registry_, "salesflow_credentials_refresh_failures_total",
                         "Refreshes of temporary AWS credentials ahead of expiry that failed")
              .Add({})),
      object_duration_(prometheus::BuildHistogram()
                           .Name("salesflow_object_duration_seconds")
                           .Help("Time to process one object, whatever its status")
                           .Register(*registry_)
                           .Add({}, kObjectBuckets)),
      notifications_family_(counter_family(*registry_, "salesflow_notifications_total",
                                           "Notification messages received, by what they held")),
      request_duration_family_(prometheus::BuildHistogram()
                                   .Name("salesflow_aws_request_duration_seconds")
                                   .Help("AWS calls, all attempts included")
                                   .Register(*registry_)),
      retries_family_(counter_family(*registry_, "salesflow_aws_retries_total",
                                     "AWS call attempts after the first")),
      throttles_family_(counter_family(*registry_, "salesflow_aws_throttles_total",
                                       "AWS calls that were throttled at least once")),
      request_errors_family_(counter_family(*registry_, "salesflow_aws_request_errors_total",
                                            "AWS calls that failed after their last attempt")),
      objects_in_flight_(
          single_gauge(*registry_, "salesflow_objects_in_flight", "Objects being processed")),
      requests_in_flight_(
          single_gauge(*registry_, "salesflow_aws_requests_in_flight", "AWS requests in flight")),
      queue_lag_(single_gauge(*registry_, "salesflow_queue_lag_seconds",
                              "Age of the oldest notification in the last receive")) {
  for (std::size_t code = 0; code < core::kReasonCodeCount; ++code) {
    rejections_by_reason_.push_back(&rejections_family_.Add(
        {{"reason", std::string(core::to_string(static_cast<core::ReasonCode>(code)))}}));
  }
  for (std::size_t kind = 0; kind < pipeline::kNotificationKindCount; ++kind) {
    notifications_by_kind_.push_back(&notifications_family_.Add(
        {{"kind",
          std::string(pipeline::to_string(static_cast<pipeline::NotificationKind>(kind)))}}));
  }
  // Every status shows up from the first scrape, so rate() works from the start.
  for (const auto status :
       {pipeline::ObjectStatus::completed, pipeline::ObjectStatus::failed,
        pipeline::ObjectStatus::interrupted, pipeline::ObjectStatus::lease_lost}) {
    object_status_counter(pipeline::to_string(status));
  }
  for (const std::string_view status :
       {kObjectSkippedDone, kObjectLeaseBusy, kObjectNotFound, kObjectOwnOutput}) {
    object_status_counter(status);
  }
}

Metrics::~Metrics() = default;

tl::expected<std::unique_ptr<Metrics>, std::string> Metrics::create(std::string_view address) {
  auto metrics = std::make_unique<Metrics>();
  if (address.empty()) return metrics;
  if (auto valid = check_address(address); !valid) return tl::unexpected(valid.error());
  try {
    metrics->exposer_ = std::make_unique<prometheus::Exposer>(std::string(address));
  } catch (const std::exception& error) {
    // civetweb reports a failed bind by throwing from the constructor.
    return tl::unexpected(fmt::format("cannot serve metrics on {}: {}", address, error.what()));
  }
  metrics->exposer_->RegisterCollectable(metrics->registry_);
  return metrics;
}

std::optional<int> Metrics::port() const {
  if (!exposer_) return std::nullopt;
  const auto ports = exposer_->GetListeningPorts();
  if (ports.empty()) return std::nullopt;
  return ports.front();
}

std::string Metrics::serialize() const {
  return prometheus::TextSerializer().Serialize(registry_->Collect());
}

void Metrics::object_finished(const pipeline::ObjectReport& report, double seconds) {
  object_status_counter(pipeline::to_string(report.status)).Increment();
  object_duration_.Observe(seconds);
  bytes_read_.Increment(static_cast<double>(report.raw_bytes));
  bytes_decompressed_.Increment(static_cast<double>(report.decompressed_bytes));
  items_put_.Increment(static_cast<double>(report.items_put));
  dlq_messages_.Increment(static_cast<double>(report.envelopes_sent));
  checkpoint_failures_.Increment(static_cast<double>(report.checkpoint_failures));
  if (report.status != pipeline::ObjectStatus::completed) return;
  records_written_.Increment(static_cast<double>(report.written));
  records_rejected_.Increment(static_cast<double>(report.rejected));
  records_duplicate_.Increment(static_cast<double>(report.tally.duplicates));
  file_faults_.Increment(static_cast<double>(report.faults));
  for (std::size_t code = 0; code < core::kReasonCodeCount; ++code) {
    if (report.tally.by_reason[code] > 0) {
      rejections_by_reason_[code]->Increment(static_cast<double>(report.tally.by_reason[code]));
    }
  }
}

void Metrics::object_skipped(std::string_view status) {
  object_status_counter(status).Increment();
}

void Metrics::ledger_failed(std::size_t count) {
  ledger_failures_.Increment(static_cast<double>(count));
}

void Metrics::credentials_refresh_failed() {
  credential_refresh_failures_.Increment();
}

void Metrics::notification_received(pipeline::NotificationKind kind) {
  notifications_by_kind_[static_cast<std::size_t>(kind)]->Increment();
}

void Metrics::request_finished(std::string_view service, std::string_view operation, double seconds,
                               int attempts, bool throttled, bool ok) {
  requests_in_flight_.Decrement();
  const OperationSeries& series = operation_series(service, operation);
  series.duration->Observe(seconds);
  if (attempts > 1) series.retries->Increment(attempts - 1);
  if (throttled) series.throttles->Increment();
  if (!ok) series.errors->Increment();
}

void Metrics::set_objects_in_flight(int count) {
  objects_in_flight_.Set(count);
}
void Metrics::request_started() {
  requests_in_flight_.Increment();
}
void Metrics::set_queue_lag(double seconds) {
  queue_lag_.Set(seconds);
}

const Metrics::OperationSeries& Metrics::operation_series(std::string_view service,
                                                          std::string_view operation) {
  {
    const std::shared_lock lock(series_mutex_);
    if (const auto by_service = operations_.find(service); by_service != operations_.end()) {
      if (const auto found = by_service->second.find(operation);
          found != by_service->second.end()) {
        return found->second;
      }
    }
  }
  const std::unique_lock lock(series_mutex_);
  auto& by_operation = operations_[std::string(service)];
  if (const auto found = by_operation.find(operation); found != by_operation.end()) {
    return found->second;  // another thread created it meanwhile
  }
  const prometheus::Labels labels{{"service", std::string(service)},
                                  {"operation", std::string(operation)}};
  // std::map nodes do not move, so the reference stays valid after the lock.
  return by_operation
      .emplace(std::string(operation),
               OperationSeries{.duration = &request_duration_family_.Add(labels, kRequestBuckets),
                               .retries = &retries_family_.Add(labels),
                               .throttles = &throttles_family_.Add(labels),
                               .errors = &request_errors_family_.Add(labels)})
      .first->second;
}

Counter& Metrics::object_status_counter(std::string_view status) {
  {
    const std::shared_lock lock(series_mutex_);
    if (const auto found = objects_by_status_.find(status); found != objects_by_status_.end()) {
      return *found->second;
    }
  }
  const std::unique_lock lock(series_mutex_);
  auto& counter = objects_by_status_[std::string(status)];
  if (counter == nullptr) counter = &objects_family_.Add({{"status", std::string(status)}});
  return *counter;
}

std::optional<double> message_age_seconds(std::string_view sent_timestamp_ms,
                                          std::chrono::system_clock::time_point now) {
  std::int64_t millis = 0;
  const auto [end, error] = std::from_chars(
      sent_timestamp_ms.data(), sent_timestamp_ms.data() + sent_timestamp_ms.size(), millis);
  if (sent_timestamp_ms.empty() || error != std::errc{} ||
      end != sent_timestamp_ms.data() + sent_timestamp_ms.size() || millis < 0) {
    return std::nullopt;
  }
  const auto sent = std::chrono::system_clock::time_point(std::chrono::milliseconds(millis));
  const double age = std::chrono::duration<double>(now - sent).count();
  return age > 0 ? age : 0.0;
}

}  // namespace salesflow::app
