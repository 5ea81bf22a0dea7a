#pragma once
// One object through the core into the sinks: read → split → validate →
// batch → sinks, with backpressure, and a durable-progress watermark for
// checkpoints. Knows nothing of queues or ledgers: the caller supplies the
// bytes, a checkpoint callback and a stop flag.

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <tl/expected.hpp>

#include "aws/error.hpp"
#include "core/envelope.hpp"
#include "core/object_validator.hpp"
#include "core/reader.hpp"
#include "core/record_validator.hpp"
#include "pipeline/failure.hpp"
#include "pipeline/observer.hpp"
#include "pipeline/sinks.hpp"

namespace salesflow::pipeline {

struct ProcessorOptions {
  core::ReaderOptions reader;
  core::EnvelopeOptions envelopes;
  // Each object's duplicate tracker: its memory budget and scratch space.
  core::DuplicateTrackingOptions duplicate_tracking;
  // The most sink calls outstanding before the reader waits. Below it the
  // number adapts to the sinks' round-trip times, from 8 (Little's law:
  // enough to keep them busy, few enough not to queue; see
  // pipeline/detail/in_flight_limit.hpp). 1 keeps strict order.
  std::size_t max_requests_in_flight = 256;
  std::size_t checkpoint_every = 5000;  // records of durable progress between checkpoints
  // Keep each item's raw text until it is acknowledged, so a sink's `conflict`
  // answer can become a duplicate_key envelope (conflict-rejecting mode).
  bool keep_raw_for_conflicts = false;
  // Told what happens to each object (chunks read, batches acknowledged,
  // checkpoints); borrowed, may be null. See pipeline/observer.hpp.
  Observer* observer = nullptr;
};

// Durable progress: every record with index < next_index, and every fault
// before it, is in the table or the DLQ (or was a repeat).
struct Checkpoint {
  std::uint64_t next_index = 0;
  std::uint64_t offset = 0;     // decompressed byte offset of record next_index (informational)
  std::uint64_t conflicts = 0;  // records below next_index refused by the table (reject mode)
};

// Whether this worker still holds the object's lease (the ledger's answer to
// every write after the claim). `lost`: another worker took the object over,
// or it was finished; this one must stop writing its records at once.
enum class LeaseState {
  held,
  lost,
};

[[nodiscard]] std::string_view to_string(LeaseState state);

// Saves durable progress; `lost` stops processing at once. An error costs
// only work a retry redoes (the previous checkpoint stays); the processor
// counts it in the report and carries on.
using CheckpointFn = std::function<aws::Result<LeaseState>(const Checkpoint&)>;

// Feeds the object's bytes, in order, to `on_chunk` until the end or until
// on_chunk returns false; the AWS error when the bytes could not all be read.
using ChunkSource =
    std::function<aws::Result<void>(const std::function<bool(std::string_view)>& on_chunk)>;

enum class ObjectStatus {
  completed,    // every record durably routed
  failed,       // a source or sink failed for good; progress up to the last checkpoint is durable
  interrupted,  // the stop flag was raised
  lease_lost,   // the checkpoint callback refused
};

[[nodiscard]] std::string_view to_string(ObjectStatus status);

struct [[nodiscard]] ObjectReport {
  ObjectStatus status = ObjectStatus::completed;
  // Why the object is failed or lease_lost (none when completed or interrupted).
  std::optional<Failure> failure;
  std::uint64_t checkpoint_failures = 0;          // checkpoints that could not be saved
  std::optional<aws::AwsError> checkpoint_error;  // the last of them
  core::Tally tally;  // the validator's counts over every record read (resumed prefix included)
  std::uint64_t written = 0;    // records in the table: tally.valid - conflicts
  std::uint64_t rejected = 0;   // records in the DLQ: tally.rejected + conflicts
  std::uint64_t conflicts = 0;  // refused by the table for a different record with the same key
  std::uint64_t faults = 0;     // file-level envelopes (unparseable ranges)
  std::uint64_t envelopes_sent = 0;  // by this run
  std::uint64_t items_put = 0;       // by this run
  std::uint64_t offloaded = 0;       // envelopes whose raw text went to S3
  std::uint64_t raw_bytes = 0;
  std::uint64_t decompressed_bytes = 0;
  std::uint64_t resumed_from = 0;  // records skipped as already durable
  std::uint64_t retries = 0;       // retried AWS requests of this run
  // The adaptive limit on sink calls in flight: at the end, and the highest.
  std::size_t requests_in_flight_limit = 0;
  std::size_t highest_requests_in_flight_limit = 0;
  core::InputFormat format = core::InputFormat::automatic;
  Checkpoint last_checkpoint;  // the durable progress at the end

  [[nodiscard]] bool balanced() const {
    return tally.records == written + rejected + tally.duplicates;
  }
};

class ObjectProcessor {
 public:
  // All borrowed; they must outlive the processor. `blobs` may be null, and then
  // an envelope that needs offloading fails the object.
  ObjectProcessor(core::RecordValidator& validator, ProcessorOptions options, ItemSink& items,
                  MessageSink& messages, BlobSink* blobs);

  // Runs on the calling thread (reading, splitting, validating); sink
  // completions may arrive on other threads. Returns when every sink call has
  // been acknowledged. `resume` skips the records a previous run made durable:
  // they are still read and validated (for the duplicate tables and the
  // counts), but not written again.
  // `lease_lost`, when given, is raised by whoever renews the lease (the
  // worker's heartbeat) when it was lost: no further request is sent, and the
  // run ends as lease_lost at the next chunk.
  [[nodiscard]] ObjectReport run(const ChunkSource& source, const core::Provenance& context,
                                 const Checkpoint& resume = {}, const CheckpointFn& checkpoint = {},
                                 const std::atomic<bool>* stop = nullptr,
                                 const std::atomic<bool>* lease_lost = nullptr);

 private:
  core::RecordValidator& validator_;
  ProcessorOptions options_;
  ItemSink& items_;
  MessageSink& messages_;
  BlobSink* blobs_;
};

}  // namespace salesflow::pipeline
