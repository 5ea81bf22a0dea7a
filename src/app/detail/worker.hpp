#pragma once
// `salesflow worker`: long-polls the notification queue and runs every
// announced object through the pipeline; deletes a notification only once
// each of its objects is settled (done, or known to need nothing).
//
// Threads: the caller's thread receives and dispatches; `objects_in_flight`
// threads run objects; one heartbeat thread keeps the visibility of messages
// in work and the leases of their objects alive. Stop by raising `stop`:
// receiving ends, objects get half the grace period to finish, then are
// interrupted (checkpointed, leases released), and unfinished messages are
// made visible again.

#include <atomic>
#include <functional>
#include <string>

#include "app/detail/aws_clients.hpp"
#include "app/settings.hpp"
#include "pipeline/object_job.hpp"
#include "pipeline/observer.hpp"
#include "pipeline/s3_event.hpp"

namespace salesflow::app {

struct WorkerSummary {
  std::uint64_t messages = 0;
  std::uint64_t objects = 0;
  std::uint64_t completed = 0;
  std::uint64_t failed = 0;  // objects that will be retried from their notification
};

class Worker {
 public:
  // `observer` (borrowed) is told about every notification and object, and
  // gets the worker's notes.
  Worker(AwsClients& aws, const Settings& settings, core::Rules rules,
         pipeline::Observer& observer);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Runs until `stop` is raised or, with settings.exit_when_idle_s >= 0, the
  // queue has been empty that long. An error when the queues cannot be found.
  [[nodiscard]] tl::expected<WorkerSummary, std::string> run(const std::atomic<bool>& stop);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace salesflow::app
