#pragma once
// Per-object decision for each record: write it, reject it, or skip it as a
// repeat; with the object's accounting. Combines RecordValidator (rules and
// item encoding) with DuplicateTracker (repeats and key clashes).

#include <array>
#include <cstdint>
#include <optional>
#include <tl/expected.hpp>

#include "core/detail/duplicate_tracker.hpp"
#include "core/duplicate_tracking.hpp"
#include "core/record_validator.hpp"

namespace salesflow::core {

inline constexpr std::size_t kReasonCodeCount = 9;

// Invariant: records == valid + rejected + duplicates.
struct Tally {
  std::uint64_t records = 0;
  std::uint64_t valid = 0;     // items handed over to be written
  std::uint64_t rejected = 0;  // records handed over to the DLQ
  // Byte-identical repeats of written records, not written again. A repeat of
  // a rejected record is rejected again (counted in `rejected`, own envelope).
  std::uint64_t duplicates = 0;
  // Rejected records having at least one reason of each code (a record with
  // two codes counts under both), indexed by ReasonCode.
  std::array<std::uint64_t, kReasonCodeCount> by_reason{};

  std::uint64_t count(ReasonCode code) const { return by_reason[static_cast<std::size_t>(code)]; }
  bool balanced() const { return records == valid + rejected + duplicates; }
  bool operator==(const Tally&) const = default;
};

enum class Disposition { write, reject, duplicate };

// One per object being processed (holds the object's duplicate tables).
class ObjectValidator {
 public:
  // `validator` is borrowed and must outlive this object. `tracking`: the
  // duplicate tracker's memory budget and scratch space (by default no
  // budget: everything in memory).
  ObjectValidator(RecordValidator& validator, Provenance provenance,
                  DuplicateTrackingOptions tracking = {});

  // Cost: RecordValidator::check plus DuplicateTracker::observe. After a
  // `reject`, verdict().reasons holds every reason (duplicate_key included);
  // after a `write`, verdict().item_json is the item.
  // Error: the duplicate tracker could not use its scratch space (only with a
  // budget). The record is then not counted, this and every later call fail
  // the same way, and the caller must fail the object: neither this record
  // nor any later one has a verdict.
  [[nodiscard]] tl::expected<Disposition, DuplicateTrackingError> check(const RawRecord& record);

  // The second half of check() for a verdict made elsewhere (by a
  // RecordValidator of the same rules, on another thread): duplicate tracking
  // and the tally. `trimmed_raw`: the record's text without surrounding
  // whitespace. `verdict` must outlive the use of verdict() that follows;
  // its item_json is not read. Verdicts must be settled in record order.
  // Cost and errors: those of check() less RecordValidator::check.
  [[nodiscard]] tl::expected<Disposition, DuplicateTrackingError> settle(
      const Verdict& verdict, std::string_view trimmed_raw);

  const Verdict& verdict() const { return *verdict_; }
  const Tally& tally() const { return tally_; }
  const Provenance& provenance() const { return provenance_; }
  // Counts a FileFault's rejection; a fault is one DLQ message, not a record.
  std::uint64_t faults() const { return faults_; }
  void count_fault() { ++faults_; }

 private:
  RecordValidator* validator_;
  Provenance provenance_;
  DuplicateTracker tracker_;
  Tally tally_;
  Verdict rejected_;  // a copy of the verdict when duplicate_key is added to it
  const Verdict* verdict_ = &rejected_;
  std::uint64_t faults_ = 0;
  std::optional<DuplicateTrackingError> tracking_failure_;  // once set, every check answers it
};

}  // namespace salesflow::core
