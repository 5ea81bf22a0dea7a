#pragma once
// The correction loop over the records DLQ (docs/correction.md): export the
// envelopes without consuming them, replay corrected records into the table,
// discard envelopes a person decided to drop. Shared by `salesflow dlq` and
// `salesflow console`.
//
// Every operation is one DlqSweep (src/pipeline/dlq_sweep.hpp): a single pass
// over the queue, each message received once and held until the pass ends, so
// settling k corrections in a queue of n messages costs about n/10 receives
// plus k/25 table writes and k/10 deletes, never a pass per correction.
//
// The order that loses nothing: a replayed record is written to the table
// first, then its DLQ message is deleted, then its offloaded text (if any). A
// crash between the write and the delete leaves the item in the table and the
// message in the DLQ; replaying again writes the same item over itself (same
// key) and deletes the message. A discard appends the envelope to the audit
// file and syncs it before the message is deleted.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "aws/dynamodb.hpp"
#include "aws/s3.hpp"
#include "aws/sqs.hpp"
#include "core/correction.hpp"
#include "core/rules.hpp"
#include "pipeline/dlq_sweep.hpp"
#include "pipeline/sinks.hpp"

namespace salesflow::pipeline {

// The clients the loop calls, borrowed for one operation.
struct CorrectionClients {
  aws::SqsClient& sqs;
  aws::S3Client& s3;
  aws::DynamoDbClient& dynamodb;
  ItemSink& items;  // the table, in the configured conflict mode
};

// ---- export ----

struct ExportFilter {
  std::vector<std::string> reasons;  // any of these codes; empty: any
  std::string source_prefix;         // "s3://bucket/prefix"; empty: any
  std::string since;                 // ISO-8601 UTC; envelopes at or after it; empty: any
  std::size_t limit = 0;             // envelopes at most; 0: all

  [[nodiscard]] bool matches(const core::EnvelopeSummary& envelope) const;
};

struct ExportReport {
  std::size_t messages = 0;           // received
  std::size_t envelopes = 0;          // written
  std::size_t repeats = 0;            // messages of an envelope already written (same id)
  std::size_t filtered = 0;           // envelopes the filter left out
  std::size_t foreign = 0;            // messages that are not salesflow envelopes
  std::size_t unreadable = 0;         // offloaded envelopes whose S3 text could not be read
  std::vector<std::string> problems;  // one line per unreadable or foreign message (first 20)
  bool whole_queue = true;  // false: the sweep hit its held limit, or the export its limit
  std::optional<aws::AwsError> error;  // the receive that ended the sweep early
  SweepFailures hand_back;
};

// Writes one export line (core::EnvelopeExporter) per envelope that matches,
// offloaded ones with the full text fetched from S3. Consumes nothing.
[[nodiscard]] ExportReport export_envelopes(CorrectionClients clients, const std::string& dlq_url,
                                            const ExportFilter& filter,
                                            const DlqSweepOptions& sweep,
                                            const std::function<void(const std::string&)>& line,
                                            const SweepProgress& progress = {});

// ---- replay ----

enum class ReplayStatus {
  replayed,          // written to the table, its DLQ message(s) deleted
  would_replay,      // --dry-run: valid, nothing touched
  already_replayed,  // not in the DLQ, and the table holds the item replayed from it
  still_invalid,     // the correction breaks the rules: `reasons`; the message stays
  duplicate_key,     // an earlier correction in the file has the same key; the message stays
  conflict,          // reject mode: the table holds another record with this key; stays
  not_replayable,    // a file_fault envelope: no single record to write; stays
  not_found,         // no DLQ message with this id (and no item replayed from it)
  write_failed,      // the table write failed: the message stays
  delete_failed,     // written, but the message was not deleted: replay again to settle it
};

[[nodiscard]] std::string_view to_string(ReplayStatus status);
// Whether a status leaves the correction settled (nothing left for the person to do).
[[nodiscard]] bool settled(ReplayStatus status);

struct ReplayResult {
  std::string id;
  std::uint64_t line = 0;  // in the replay file
  ReplayStatus status = ReplayStatus::not_found;
  std::vector<core::Reason> reasons;  // still_invalid
  std::string detail;                 // one line: the error, the other line, ...
  std::string item_json;              // the item written, or that would be (dry run)
};

struct ReplayOptions {
  std::string table;         // where `already_replayed` is looked up
  std::string corrected_at;  // ISO-8601 UTC, the replay's time: `_corrected_at` of every item
  bool dry_run = false;      // validate only: no queue, no table
  DlqSweepOptions sweep;
};

struct ReplayReport {
  std::vector<ReplayResult> results;  // one per correction, in the order given
  std::size_t messages = 0;           // received by the sweep
  std::size_t messages_deleted = 0;   // repeats of an envelope included
  std::size_t offload_objects_deleted = 0;
  std::vector<std::string> offload_delete_failures;  // s3://... left behind (harmless garbage)
  bool whole_queue = true;                           // false: the sweep hit its held limit
  std::optional<aws::AwsError> error;                // the receive that ended the sweep early
  SweepFailures hand_back;

  [[nodiscard]] std::size_t count(ReplayStatus status) const;
};

// Validates each correction with `rules` (the provenance and record index of
// its DLQ envelope, `_corrected_at` added), writes the valid ones and deletes
// their messages. Ids must be distinct (the caller refuses a file repeating one).
[[nodiscard]] ReplayReport replay_corrections(CorrectionClients clients, const core::Rules& rules,
                                              const std::string& dlq_url,
                                              const std::vector<core::Correction>& corrections,
                                              const ReplayOptions& options,
                                              const SweepProgress& progress = {});

// The same validation without any call (`--dry-run`): each correction with
// the provenance of the envelope its line carries.
[[nodiscard]] ReplayReport dry_run_corrections(const core::Rules& rules,
                                               const std::vector<core::Correction>& corrections,
                                               const ReplayOptions& options);

// ---- discard ----

enum class DiscardStatus { discarded, not_found, audit_failed, delete_failed };
[[nodiscard]] std::string_view to_string(DiscardStatus status);

struct DiscardResult {
  std::string id;
  DiscardStatus status = DiscardStatus::not_found;
  std::string detail;
};

struct DiscardReport {
  std::vector<DiscardResult> results;  // one per id, in the order given
  std::size_t messages = 0;
  std::size_t messages_deleted = 0;
  std::vector<std::string> offload_delete_failures;  // s3://... left behind (harmless garbage)
  bool whole_queue = true;
  std::optional<aws::AwsError> error;
  SweepFailures hand_back;
};

// Stores the full envelope (offloaded text inlined) where a person can find
// it again; returns an error line when it could not be stored durably.
using AuditWriter =
    std::function<std::optional<std::string>(const std::string& id, const std::string& envelope)>;

// For each id found in the DLQ: audit(the full envelope), then delete its
// message(s) and its offloaded text. Nothing is deleted whose audit failed.
[[nodiscard]] DiscardReport discard_envelopes(CorrectionClients clients, const std::string& dlq_url,
                                              const std::vector<std::string>& ids,
                                              const DlqSweepOptions& sweep,
                                              const AuditWriter& audit,
                                              const SweepProgress& progress = {});

}  // namespace salesflow::pipeline
