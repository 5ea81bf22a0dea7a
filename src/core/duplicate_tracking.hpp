#pragma once
// What duplicate tracking within one object may use, and how it fails.
//
// An object's tracker keeps 32 bytes per written record (a key digest and a
// record digest) in memory up to `memory_budget_bytes`; beyond that it spills
// sorted runs to scratch files and keeps in memory only a filter and an index
// of them, so its memory stays within the budget however long the object is
// (src/core/detail/duplicate_tracker.hpp has the design and its costs).

#include <cstddef>
#include <memory>
#include <string>

#include "base/scratch_file.hpp"

namespace salesflow::core {

struct DuplicateTrackingOptions {
  // Bytes the tracker of one object may hold. 0: no bound, never spill
  // (everything in memory, as fast as tracking gets, 43-85 bytes per record).
  std::size_t memory_budget_bytes = std::size_t{64} << 20;
  // Where spilled runs go; shared by the trackers of one process. Null: none,
  // and an object that outgrows the budget fails (a DuplicateTrackingError).
  std::shared_ptr<base::ScratchSpace> scratch;
};

// The tracker could not spill or read back its runs. The object's verdicts
// are unknown from the record that met the error on, so that record and every
// later one are neither written nor rejected: the object fails and is retried
// from its last checkpoint (nothing lost, nothing sent twice).
struct [[nodiscard]] DuplicateTrackingError {
  base::FileError cause;  // operation, errno, directory
  // "duplicate tracking: writing a scratch file in /tmp: No space left on device"
  [[nodiscard]] std::string to_string() const { return "duplicate tracking: " + cause.to_string(); }
};

}  // namespace salesflow::core
