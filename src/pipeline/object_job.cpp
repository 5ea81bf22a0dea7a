#include "pipeline/object_job.hpp"

#include <fmt/core.h>

#include <utility>

#include "base/text.hpp"
#include "base/time.hpp"
#include "core/envelope.hpp"

namespace salesflow::pipeline {

std::string_view to_string(JobOutcome outcome) {
  switch (outcome) {
    case JobOutcome::completed:
      return "completed";
    case JobOutcome::already_done:
      return "already_done";
    case JobOutcome::held:
      return "held";
    case JobOutcome::superseded:
      return "superseded";
    case JobOutcome::missing:
      return "missing";
    case JobOutcome::failed:
      return "failed";
    case JobOutcome::interrupted:
      return "interrupted";
    case JobOutcome::lease_lost:
      return "lease_lost";
    case JobOutcome::own_output:
      return "own_output";
  }
  return "unknown";
}

std::string utc_timestamp_now() {
  return base::iso8601_utc_ms(std::chrono::system_clock::now());
}

namespace {

bool is_gone(const aws::AwsError& error) {
  return error.http_status == 404 || error.code == "NoSuchKey" || error.code == "NoSuchVersion";
}

bool is_changed(const aws::AwsError& error) {
  return error.http_status == 412 || error.code == "PreconditionFailed";
}

}  // namespace

JobResult run_object_job(JobEnvironment& environment, core::RecordValidator& validator,
                         ObjectVersion object, std::uint64_t size_hint,
                         const std::atomic<bool>* stop, const std::atomic<bool>* lease_lost,
                         const ClaimedFn& on_claimed) {
  const auto started = std::chrono::steady_clock::now();
  Observer* const observer = environment.observer();
  if (observer != nullptr) {
    observer->object_started(object, size_hint);
  }
  JobResult result;
  result.size = size_hint;
  // Every way out of the job passes here, so every started object finishes.
  const auto finish = [&](JobOutcome outcome) {
    result.outcome = outcome;
    result.elapsed = std::chrono::steady_clock::now() - started;
    if (observer != nullptr) {
      observer->object_finished(object, result);
    }
    return result;
  };
  const auto fail = [&](JobOutcome outcome, Failure failure) {
    result.failure = std::move(failure);
    return finish(outcome);
  };
  const auto settle = [&](JobOutcome outcome, std::string reason) {
    result.reason = std::move(reason);
    return finish(outcome);
  };
  // A ledger write after the run that did not happen: the outcome stands (no
  // record depends on it), its cost is named in the failure's detail.
  const auto note_ledger = [&](std::string consequence, aws::AwsError error) {
    result.ledger_failures.push_back(
        failure_from(FailureStage::ledger, std::move(consequence), std::move(error)));
  };

  if (core::is_offload_location(environment.options().envelopes, object.bucket, object.key)) {
    // Before anything is read or claimed: salesflow's own output is never sales data.
    return settle(JobOutcome::own_output,
                  "the key is in salesflow's DLQ offload location: not an input file");
  }
  // Notifications carry eTags bare, S3 responses quoted; the ledger uses them bare,
  // If-Match wants them quoted.
  object.etag = std::string(base::strip_etag_quotes(object.etag));
  if (object.etag.empty() && object.version_id.empty()) {
    auto head = environment.s3().head_object(object.bucket, object.key);
    if (!head) {
      const JobOutcome outcome = is_gone(head.error()) ? JobOutcome::missing : JobOutcome::failed;
      return fail(outcome, failure_from(FailureStage::source, "finding the object's version",
                                        std::move(head.error())));
    }
    object.etag = std::string(base::strip_etag_quotes(head->etag));
    object.version_id = head->version_id;
    result.size = head->size;
  }

  auto claim = environment.ledger().claim(object);
  if (!claim) {
    return fail(JobOutcome::failed, failure_from(FailureStage::ledger, "claiming the object",
                                                 std::move(claim.error())));
  }
  if (claim->result == ClaimResult::already_done) {
    return settle(JobOutcome::already_done, "already done");
  }
  if (claim->result == ClaimResult::held) {
    return settle(JobOutcome::held, "leased by " + claim->holder);
  }
  if (on_claimed) {
    on_claimed(object);
  }

  const core::Provenance context{object.bucket, object.key, object.etag, object.version_id,
                                 utc_timestamp_now(), {}};
  aws::GetObjectOptions get;
  get.if_match = object.etag.empty() ? std::string() : "\"" + object.etag + "\"";
  get.version_id = object.version_id;
  // The first bytes decide whether the object is one of salesflow's own DLQ
  // envelopes (stored elsewhere, or under another configuration): such an
  // object is never fed to the reader, wherever it was found.
  std::string head;
  bool head_passed = false;
  bool own_output = false;
  const ChunkSource source =
      [&](const std::function<bool(std::string_view)>& on_chunk) -> aws::Result<void> {
    const auto sniff = [&](std::string_view chunk) {
      if (head_passed) {
        return on_chunk(chunk);
      }
      head.append(chunk);
      if (head.size() < core::kEnvelopeSignature.size()) {
        return true;
      }
      head_passed = true;
      if (core::starts_like_envelope(head)) {
        own_output = true;
        return false;
      }
      return on_chunk(std::exchange(head, {}));
    };
    auto got = environment.s3().get_object(object.bucket, object.key, sniff, get);
    if (!got) {
      return tl::make_unexpected(std::move(got.error()));
    }
    if (!head_passed && !head.empty()) {
      head_passed = true;  // an object shorter than the signature
      // The last bytes: whether the consumer wants more no longer matters.
      static_cast<void>(on_chunk(head));
    }
    return {};
  };
  const CheckpointFn checkpoint = [&](const Checkpoint& progress) {
    return environment.ledger().checkpoint(object, progress);
  };

  ObjectProcessor processor(validator, environment.options(), environment.items(),
                            environment.messages(), &environment.blobs());
  result.report = processor.run(source, context, claim->resume, checkpoint, stop, lease_lost);
  if (own_output) {
    // Nothing was routed; the ledger entry is closed so a repeated
    // notification is settled without reading again.
    const ObjectReport nothing;
    auto closed = environment.ledger().complete(object, nothing);
    if (!closed) {
      note_ledger("closing the ledger entry (a repeated notification reads the first bytes again)",
                  std::move(closed.error()));
    }
    result.report = nothing;
    return settle(JobOutcome::own_output,
                  "the object is a salesflow DLQ envelope: not an input file");
  }

  result.failure = result.report.failure;
  switch (result.report.status) {
    case ObjectStatus::completed: {
      auto completed = environment.ledger().complete(object, result.report);
      if (!completed) {
        // Everything is durable; only the ledger entry is missing. The retry
        // rewrites the same items and envelopes (idempotent) and completes it.
        return fail(JobOutcome::failed, failure_from(FailureStage::ledger,
                                                     "marking the object done (a retry redoes it)",
                                                     std::move(completed.error())));
      }
      if (*completed == LeaseState::lost) {
        return fail(
            JobOutcome::lease_lost,
            Failure{
                FailureStage::lease, "the lease was lost before the object was marked done", {}});
      }
      return finish(JobOutcome::completed);
    }
    case ObjectStatus::lease_lost:
      return finish(JobOutcome::lease_lost);
    case ObjectStatus::interrupted:
    case ObjectStatus::failed: {
      const auto& failure = result.report.failure;
      const aws::AwsError* read_error =
          failure && failure->stage == FailureStage::source && failure->cause ? &*failure->cause
                                                                              : nullptr;
      if (read_error != nullptr && (is_gone(*read_error) || is_changed(*read_error))) {
        // This version's bytes can no longer be read: nothing a retry could do.
        // The ledger entry is closed with what was routed; a newer version has
        // its own notification and ledger entry.
        const bool gone = is_gone(*read_error);
        auto closed = environment.ledger().complete(object, result.report);
        if (!closed) {
          note_ledger("closing the ledger entry (a repeated notification finds the object gone)",
                      std::move(closed.error()));
        }
        return finish(gone ? JobOutcome::missing : JobOutcome::superseded);
      }
      auto saved = environment.ledger().checkpoint(object, result.report.last_checkpoint);
      if (observer != nullptr) {
        observer->checkpoint_saved(object, result.report.last_checkpoint, saved);
      }
      auto released = environment.ledger().release(object);
      if (!saved) {
        note_ledger("saving the last checkpoint (a retry redoes the records since the one before)",
                    std::move(saved.error()));
      } else if (*saved == LeaseState::lost) {
        result.ledger_failures.push_back(
            Failure{FailureStage::lease, "the lease was lost before the checkpoint was saved", {}});
      }
      if (!released) {
        note_ledger("releasing the lease (a retry waits until it expires)",
                    std::move(released.error()));
      }
      return finish(result.report.status == ObjectStatus::interrupted ? JobOutcome::interrupted
                                                                      : JobOutcome::failed);
    }
  }
  return fail(JobOutcome::failed, Failure{FailureStage::sink, "unknown processor status", {}});
}

std::string JobResult::describe() const {
  std::string text = failure ? failure->to_string() : reason;
  for (const auto& also : ledger_failures) {
    if (!text.empty()) {
      text += "; ";
    }
    text += also.to_string();
  }
  return text;
}

}  // namespace salesflow::pipeline
