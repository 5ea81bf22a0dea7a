#include "pipeline/observer.hpp"

namespace salesflow::pipeline {

std::string_view to_string(SinkKind sink) {
  switch (sink) {
    case SinkKind::items:
      return "items";
    case SinkKind::messages:
      return "messages";
    case SinkKind::offload:
      return "offload";
  }
  return "unknown";
}

std::string_view to_string(NotificationKind kind) {
  switch (kind) {
    case NotificationKind::objects:
      return "objects";
    case NotificationKind::test_event:
      return "test_event";
    case NotificationKind::ignored:
      return "ignored";
    case NotificationKind::invalid:
      return "invalid";
  }
  return "unknown";
}

void Observer::object_started(const ObjectVersion& /*object*/, std::uint64_t /*size_hint*/) {}
void Observer::chunk_read(const ObjectVersion& /*object*/, std::uint64_t /*raw_bytes*/,
                          std::uint64_t /*records*/) {}
void Observer::batch_acknowledged(const ObjectVersion& /*object*/,
                                  const BatchAcknowledged& /*batch*/) {}
void Observer::checkpoint_saved(const ObjectVersion& /*object*/, const Checkpoint& /*checkpoint*/,
                                const aws::Result<LeaseState>& /*saved*/) {}
void Observer::object_finished(const ObjectVersion& /*object*/, const JobResult& /*result*/) {}
void Observer::notification_received(NotificationKind /*kind*/) {}
void Observer::queue_lag(double /*seconds*/) {}
void Observer::objects_in_flight(int /*count*/) {}
void Observer::note(Severity /*severity*/, std::string_view /*text*/) {}
void Observer::on_request_started(std::string_view /*service*/, std::string_view /*operation*/) {}
void Observer::on_retry(const aws::RetryRecord& /*retry*/) {}
void Observer::on_request(const aws::RequestRecord& /*record*/) {}
void Observer::on_credentials_refresh_failure(const aws::AwsError& /*error*/,
                                              std::chrono::seconds /*valid_for*/) {}

void ObserverList::object_started(const ObjectVersion& object, std::uint64_t size_hint) {
  for (auto* observer : observers_) observer->object_started(object, size_hint);
}
void ObserverList::chunk_read(const ObjectVersion& object, std::uint64_t raw_bytes,
                              std::uint64_t records) {
  for (auto* observer : observers_) observer->chunk_read(object, raw_bytes, records);
}
void ObserverList::batch_acknowledged(const ObjectVersion& object, const BatchAcknowledged& batch) {
  for (auto* observer : observers_) observer->batch_acknowledged(object, batch);
}
void ObserverList::checkpoint_saved(const ObjectVersion& object, const Checkpoint& checkpoint,
                                    const aws::Result<LeaseState>& saved) {
  for (auto* observer : observers_) observer->checkpoint_saved(object, checkpoint, saved);
}
void ObserverList::object_finished(const ObjectVersion& object, const JobResult& result) {
  for (auto* observer : observers_) observer->object_finished(object, result);
}
void ObserverList::notification_received(NotificationKind kind) {
  for (auto* observer : observers_) observer->notification_received(kind);
}
void ObserverList::queue_lag(double seconds) {
  for (auto* observer : observers_) observer->queue_lag(seconds);
}
void ObserverList::objects_in_flight(int count) {
  for (auto* observer : observers_) observer->objects_in_flight(count);
}
void ObserverList::note(Severity severity, std::string_view text) {
  for (auto* observer : observers_) observer->note(severity, text);
}
void ObserverList::on_request_started(std::string_view service, std::string_view operation) {
  for (auto* observer : observers_) observer->on_request_started(service, operation);
}
void ObserverList::on_retry(const aws::RetryRecord& retry) {
  for (auto* observer : observers_) observer->on_retry(retry);
}
void ObserverList::on_request(const aws::RequestRecord& record) {
  for (auto* observer : observers_) observer->on_request(record);
}
void ObserverList::on_credentials_refresh_failure(const aws::AwsError& error,
                                                  std::chrono::seconds valid_for) {
  for (auto* observer : observers_) observer->on_credentials_refresh_failure(error, valid_for);
}

}  // namespace salesflow::pipeline
