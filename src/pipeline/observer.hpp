#pragma once
// What happens to the objects of one process, told to whoever watches it: the
// log, the metrics, a progress bar, the Lambda's metric lines. One interface,
// so every one of them sees the same events under the same names; a command
// hands its observers to the pipeline as one (ObserverList).
//
// An object's events, in order: object_started, then chunk_read after each
// chunk, batch_acknowledged as the sinks answer, checkpoint_saved after each
// checkpoint, and object_finished last. Every object that starts finishes,
// whatever its outcome. The AWS requests behind them arrive through
// aws::RequestObserver (started, retried, finished), which this interface
// extends, so one observer sees both.
//
// Threads: the object's own thread, except batch_acknowledged (a sink
// completion, often the HTTP client's I/O thread) and the request events (see
// aws::RequestObserver). Several objects run at once, so every method may be
// called concurrently; each must be quick, must not block, and must not call
// back into the pipeline. Every event has an empty default: an observer
// overrides what it uses.

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "aws/error.hpp"
#include "aws/service.hpp"

namespace salesflow::pipeline {

struct ObjectVersion;
struct Checkpoint;
struct JobResult;
enum class LeaseState;

// The sink a batch went to.
enum class SinkKind {
  items,     // BatchWriteItem / PutItem into the table
  messages,  // SendMessageBatch into the DLQ
  offload,   // PutObject of an oversize envelope's text
};

[[nodiscard]] std::string_view to_string(SinkKind sink);

// One sink call, acknowledged.
struct BatchAcknowledged {
  SinkKind sink = SinkKind::items;
  std::size_t entries = 0;    // items, messages, or 1 for an offload
  std::size_t failed = 0;     // entries not durable (0: every one is)
  std::size_t conflicts = 0;  // items refused for another record with the same key
};

// What a received notification turned out to be.
enum class NotificationKind {
  objects,     // announced objects to process
  test_event,  // S3's s3:TestEvent: settled without work
  ignored,     // nothing salesflow processes (other event types): settled without work
  invalid,     // not a notification at all: left to the queue's redrive policy
};

inline constexpr std::size_t kNotificationKindCount = 4;

[[nodiscard]] std::string_view to_string(NotificationKind kind);

// How much a note matters, for the reader of the log.
enum class Severity { debug, info, warn, error };

class Observer : public aws::RequestObserver {
 public:
  // ---- one object's way
  // `size_hint`: the size the notification announced, 0 when unknown.
  virtual void object_started(const ObjectVersion& object, std::uint64_t size_hint);
  // One chunk of the object's stored bytes was read and split: its size and
  // the records it completed.
  virtual void chunk_read(const ObjectVersion& object, std::uint64_t raw_bytes,
                          std::uint64_t records);
  virtual void batch_acknowledged(const ObjectVersion& object, const BatchAcknowledged& batch);
  // `saved`: the lease state the ledger answered, or why the checkpoint was not saved.
  virtual void checkpoint_saved(const ObjectVersion& object, const Checkpoint& checkpoint,
                                const aws::Result<LeaseState>& saved);
  virtual void object_finished(const ObjectVersion& object, const JobResult& result);

  // ---- the service around the objects (the worker, the Lambda function)
  virtual void notification_received(NotificationKind kind);
  // Age of the oldest message of a receive, in seconds.
  virtual void queue_lag(double seconds);
  virtual void objects_in_flight(int count);
  // Anything else worth a log line.
  virtual void note(Severity severity, std::string_view text);

  // ---- aws::RequestObserver
  void on_request_started(std::string_view service, std::string_view operation) override;
  void on_retry(const aws::RetryRecord& retry) override;
  void on_request(const aws::RequestRecord& record) override;
  void on_credentials_refresh_failure(const aws::AwsError& error,
                                      std::chrono::seconds valid_for) override;
};

// Tells every event to each observer added, in the order added. Add them all
// before the first event: the list itself is not guarded.
class ObserverList final : public Observer {
 public:
  // Borrowed: it must outlive the list.
  void add(Observer& observer) { observers_.push_back(&observer); }

  void object_started(const ObjectVersion& object, std::uint64_t size_hint) override;
  void chunk_read(const ObjectVersion& object, std::uint64_t raw_bytes,
                  std::uint64_t records) override;
  void batch_acknowledged(const ObjectVersion& object, const BatchAcknowledged& batch) override;
  void checkpoint_saved(const ObjectVersion& object, const Checkpoint& checkpoint,
                        const aws::Result<LeaseState>& saved) override;
  void object_finished(const ObjectVersion& object, const JobResult& result) override;
  void notification_received(NotificationKind kind) override;
  void queue_lag(double seconds) override;
  void objects_in_flight(int count) override;
  void note(Severity severity, std::string_view text) override;
  void on_request_started(std::string_view service, std::string_view operation) override;
  void on_retry(const aws::RetryRecord& retry) override;
  void on_request(const aws::RequestRecord& record) override;
  void on_credentials_refresh_failure(const aws::AwsError& error,
                                      std::chrono::seconds valid_for) override;

 private:
  std::vector<Observer*> observers_;
};

}  // namespace salesflow::pipeline
