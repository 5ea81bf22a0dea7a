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
                         const std::atomic<bool>* stop, const std::atomic<bool>* lease_lost) {
  const auto started = std::chrono::steady_clock::now();
  JobResult result;
  result.size = size_hint;
  const auto finish = [&](JobOutcome outcome, std::string error = {}) {
    result.outcome = outcome;
    result.error = std::move(error);
    result.elapsed = std::chrono::steady_clock::now() - started;
    return result;
  };

  if (core::is_offload_location(environment.options.envelopes, object.bucket, object.key)) {
    // Before anything is read or claimed: salesflow's own output is never sales data.
    return finish(JobOutcome::own_output,
                  "the key is in salesflow's DLQ offload location: not an input file");
  }
  // Notifications carry eTags bare, S3 responses quoted; the ledger uses them bare,
  // If-Match wants them quoted.
  object.etag = std::string(base::strip_etag_quotes(object.etag));
  if (object.etag.empty() && object.version_id.empty()) {
    auto head = environment.s3.head_object(object.bucket, object.key);
    if (!head) {
      if (is_gone(head.error())) {
        return finish(JobOutcome::missing, head.error().to_string());
      }
      return finish(JobOutcome::failed, head.error().to_string());
    }
    object.etag = std::string(base::strip_etag_quotes(head->etag));
    object.version_id = head->version_id;
    result.size = head->size;
  }

  auto claim = environment.ledger.claim(object);
  if (!claim) {
    return finish(JobOutcome::failed, "ledger: " + claim.error().to_string());
  }
  if (claim->result == ClaimResult::already_done) {
    return finish(JobOutcome::already_done);
  }
  if (claim->result == ClaimResult::held) {
    return finish(JobOutcome::held, "leased by " + claim->holder);
  }

  const core::ObjectContext context{object.bucket, object.key, object.etag, object.version_id,
                                    utc_timestamp_now()};
  aws::GetObjectOptions get;
  get.if_match = object.etag.empty() ? std::string() : "\"" + object.etag + "\"";
  get.version_id = object.version_id;
  std::optional<aws::AwsError> read_error;
  // The first bytes decide whether the object is one of salesflow's own DLQ
  // envelopes (stored elsewhere, or under another configuration): such an
  // object is never fed to the reader, wherever it was found.
  std::string head;
  bool head_passed = false;
  bool own_output = false;
  const ChunkSource source = [&](const std::function<bool(std::string_view)>& on_chunk)
      -> tl::expected<void, std::string> {
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
    auto got = environment.s3.get_object(object.bucket, object.key, sniff, get);
    if (!got) {
      read_error = got.error();
      return tl::make_unexpected(got.error().to_string());
    }
    if (!head_passed && !head.empty()) {
      head_passed = true;  // an object shorter than the signature
      on_chunk(head);
    }
    return {};
  };
  const CheckpointFn checkpoint = [&](const Checkpoint& progress) {
    auto saved = environment.ledger.checkpoint(object, progress);
    // A failed write of the checkpoint costs only redone work; a lost lease stops us.
    return saved ? *saved : LeaseState::held;
  };

  ObjectProcessor processor(validator, environment.options, environment.items, environment.messages,
                            environment.blobs);
  result.report = processor.run(source, context, claim->resume, checkpoint, stop, lease_lost);
  if (own_output) {
    // Nothing was routed; the ledger entry is closed so a repeated
    // notification is settled without reading again.
    ObjectReport nothing;
    auto closed = environment.ledger.complete(object, nothing);
    std::string error = "the object is a salesflow DLQ envelope: not an input file";
    if (!closed) {
      error += "; closing the ledger entry failed: " + closed.error().to_string();
    }
    result.report = nothing;
    return finish(JobOutcome::own_output, error);
  }

  switch (result.report.status) {
    case ObjectStatus::completed: {
      auto completed = environment.ledger.complete(object, result.report);
      if (!completed) {
        // Everything is durable; only the ledger entry is missing. The retry
        // rewrites the same items and envelopes (idempotent) and completes it.
        return finish(JobOutcome::failed, "ledger: " + completed.error().to_string());
      }
      if (*completed == LeaseState::lost) {
        return finish(JobOutcome::lease_lost,
                      "the lease was lost before the object was marked done");
      }
      return finish(JobOutcome::completed);
    }
    case ObjectStatus::lease_lost:
      return finish(JobOutcome::lease_lost, result.report.error);
    case ObjectStatus::interrupted:
    case ObjectStatus::failed: {
      if (read_error && (is_gone(*read_error) || is_changed(*read_error))) {
        // This version's bytes can no longer be read: nothing a retry could do.
        // The ledger entry is closed with what was routed; a newer version has
        // its own notification and ledger entry.
        const bool gone = is_gone(*read_error);
        auto closed = environment.ledger.complete(object, result.report);
        std::string error = result.report.error;
        if (!closed) {
          error += "; closing the ledger entry failed: " + closed.error().to_string();
        }
        return finish(gone ? JobOutcome::missing : JobOutcome::superseded, error);
      }
      auto saved = environment.ledger.checkpoint(object, result.report.last_checkpoint);
      auto released = environment.ledger.release(object);
      std::string error = result.report.error;
      if (!saved) {
        error += "; saving the checkpoint failed: " + saved.error().to_string();
      } else if (*saved == LeaseState::lost) {
        error += "; the lease was lost before the checkpoint was saved";
      }
      if (!released) {
        error += "; releasing the lease failed: " + released.error().to_string();
      }
      return finish(result.report.status == ObjectStatus::interrupted ? JobOutcome::interrupted
                                                                      : JobOutcome::failed,
                    error);
    }
  }
  return finish(JobOutcome::failed, "unknown processor status");
}

}  // namespace salesflow::pipeline
