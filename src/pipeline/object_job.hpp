#pragma once
// One object version from claim to done: claim it in the ledger, stream it
// from S3 (resuming a cut connection, pinned to the version by If-Match),
// run it through the processor into the sinks with checkpoints, then mark it
// done — or give the lease back so a retry resumes from the last checkpoint.
// Shared by `salesflow worker` (objects from notifications) and `salesflow
// process` (objects named on the command line).

#include <atomic>
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "aws/s3.hpp"
#include "pipeline/failure.hpp"
#include "pipeline/job_environment.hpp"
#include "pipeline/ledger.hpp"
#include "pipeline/object_processor.hpp"
#include "pipeline/sinks.hpp"

namespace salesflow::pipeline {

enum class JobOutcome {
  completed,     // every record is in the table or the DLQ; the ledger says done
  already_done,  // the ledger says a previous run finished this version
  held,          // another worker holds the lease: leave the notification for later
  superseded,    // the key now holds another version (If-Match failed); its own event follows
  missing,       // the object is gone (deleted before it could be read)
  failed,        // retry later: progress up to the last checkpoint is kept
  interrupted,   // stopped by shutdown: progress checkpointed, lease released
  lease_lost,    // another worker took over
  own_output,    // a DLQ envelope salesflow stored itself (an offload object): never input
};

[[nodiscard]] std::string_view to_string(JobOutcome outcome);

// Whether the notification that announced the object may be deleted.
[[nodiscard]] inline bool settles_notification(JobOutcome outcome) {
  return outcome == JobOutcome::completed || outcome == JobOutcome::already_done ||
         outcome == JobOutcome::superseded || outcome == JobOutcome::missing ||
         outcome == JobOutcome::own_output;
}

struct [[nodiscard]] JobResult {
  JobOutcome outcome = JobOutcome::failed;
  ObjectReport report;
  // What went wrong: why the job failed or lost its lease, or the S3 answer
  // that made it missing or superseded. None when it completed, was settled
  // without work, or was interrupted.
  std::optional<Failure> failure;
  // Why the object was settled or left without work, in words ("leased by w-2").
  std::string reason;
  // Ledger writes after the run that did not happen (saving the checkpoint,
  // releasing the lease, closing the entry). None of them costs a record; each
  // detail names what it costs instead (redone work, waiting for the lease to
  // expire). Counted in the metrics.
  std::vector<Failure> ledger_failures;
  std::uint64_t size = 0;
  std::chrono::duration<double> elapsed{0};

  // The failure, or the reason, then every ledger failure: one line for the log.
  [[nodiscard]] std::string describe() const;
};

// `environment` is what every job of the process shares (the ledger, the
// sinks, the options); `validator` is the calling thread's own, made from
// environment.rules(). `object.etag` may be empty: then a HeadObject finds the current version
// first. `stop` interrupts at the next chunk (checkpointing what is durable).
// `lease_lost`, raised by whoever renews the lease when the ledger says it is
// gone, stops all writing at once (the job ends as lease_lost).
// `on_claimed`, when given, is called once the ledger lease is this
// process's, with the version claimed (its eTag found by HeadObject when the
// notification had none): from then on, and only then, the lease may be
// renewed. Renewing before the claim would find no lease and report it lost.
using ClaimedFn = std::function<void(const ObjectVersion&)>;
[[nodiscard]] JobResult run_object_job(JobEnvironment& environment,
                                       core::RecordValidator& validator, ObjectVersion object,
                                       std::uint64_t size_hint, const std::atomic<bool>* stop,
                                       const std::atomic<bool>* lease_lost = nullptr,
                                       const ClaimedFn& on_claimed = {});

// ISO-8601 UTC with milliseconds, for the items' ingestion time.
[[nodiscard]] std::string utc_timestamp_now();

}  // namespace salesflow::pipeline
