#pragma once
// Duplicate detection within one object, exact, online (each record's answer
// as it streams) and in bounded memory.
//
// What is kept. One entry per written record: the digest of its key and the
// digest of its text, 32 bytes. A byte-identical repeat has the same key, so
// looking the key up answers both questions at once: absent, a first
// occurrence; present with the same record digest, a repeat; present with
// another, a key clash.
//
// Digests. Record digests are GMAC tags (AES-128-GCM over the text, 128 bits)
// under a random key drawn for each tracker: two different records get one
// digest with probability at most (L + 1) / 2^128 per pair (L = the records'
// length in 16-byte blocks) whatever their content, since no writer of the
// file can know the key; for n = 10^9 records of 1 KB that is ~1e-19 in all.
// So a distinct record is never, in practice, taken for a repeat (which would
// drop it). Keys of at most 15 bytes are kept exactly; longer ones are
// digested the same way (a clash there would reject a record, not drop it).
// GMAC runs at ~3.6 GB/s on 1 KB records here, SHA-256 at ~1.7
// (bench/README.md).
//
// Memory. Entries live in an open-addressing table (linear probing, doubled
// at 3/4 full: 43-85 bytes per record) until the table reaches half the
// budget. When that table is 3/4 full it is sorted and written out as a run
// (a scratch file: sorted entries, nothing else), then emptied. For each run
// memory keeps only a fence index (the first key of each block of at least
// 128 entries), and one blocked Bloom filter (a quarter of the budget) holds
// every spilled key, so most lookups of a new key never touch the disk.
// Runs are merged so that each is larger than all newer ones together (a
// binary counter): at most log2(spilled / spill size) + 1 runs, and each
// entry is rewritten about that many times. The budget's shares: table 1/2,
// filter 1/4, fence indexes 1/8 (the block grows so they fit), merge buffers
// 1/8; memory_bytes() says what is held.
//
// Why this design: a Lambda has 256 MB and /tmp, a file may hold any number
// of records, and each verdict is needed before the next record (no batching
// of lookups). A fixed memory cannot hold any per-record state for every
// record, so something must go to disk; sorted runs with fences read with
// pread (never mmap: mapped pages count in the RSS) make a lookup that gets
// past the filter one read of one block per run. A partitioned hash on disk
// would need a random write per record; a single sorted file rewritten per
// spill would cost O(n^2) writes.
//
// Costs. First occurrence or repeat found in the table: one GMAC of the text
// (and of a key longer than 15 bytes), O(1) table operations. Once runs
// exist, a key not in the table also costs one filter probe (one cache line);
// with probability p (the filter's false-positive rate: ~1% at 13 bits per
// spilled key, ~30% at 2.7) or when the key is on disk, one pread of one
// block (4-8 KB, from the page cache while the runs fit in it) per run, newest
// first. A spill sorts the table (O(m log m)) and writes it sequentially; a
// merge reads and writes its runs sequentially. Disk: 32 bytes per record
// beyond the table, twice that at the peak of the largest merge.
//
// Errors. Creating, writing or reading a scratch file can fail (an unwritable
// directory, a full disk, an I/O error, a budget with no scratch space): the
// call that met it returns a DuplicateTrackingError, and so does every later
// call (the spill in progress left the state incomplete). The object must
// fail then, to be retried from its checkpoint. Not synchronised: one thread
// at a time.

#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
#include <tl/expected.hpp>
#include <vector>

#include "core/duplicate_tracking.hpp"

namespace salesflow::core {

struct Digest128 {
  std::uint64_t low = 0;
  std::uint64_t high = 0;
  bool operator==(const Digest128&) const = default;
};

class DuplicateTracker {
 public:
  enum class Seen {
    first,                      // not a repeat of a written record: write it (now remembered)
    same_record,                // a byte-identical repeat (after trimming whitespace) of one
    same_key_different_record,  // its key was already written by a different record
  };

  // Default options: no budget (never spills, needs no scratch space).
  explicit DuplicateTracker(DuplicateTrackingOptions options = {});
  ~DuplicateTracker();
  DuplicateTracker(DuplicateTracker&&) noexcept;
  DuplicateTracker& operator=(DuplicateTracker&&) noexcept;

  // Only records that are to be written are observed: a rejected record is
  // never a "repeat" (each occurrence needs its own DLQ envelope, so a person
  // can find and fix every one). `trimmed_raw`: the record text without
  // surrounding whitespace; `key`: its Verdict::key (a record without a key is
  // identified by its text alone). Only a `first` answer remembers the record
  // and claims its key; a same_key_different_record one (rejected as
  // duplicate_key) is not remembered, so its repeats clash again.
  // Cost and errors: see the top of this file.
  [[nodiscard]] tl::expected<Seen, DuplicateTrackingError> observe(std::string_view key,
                                                                   std::string_view trimmed_raw);

  // Records remembered (each `first` answer), in memory and on disk.
  [[nodiscard]] std::size_t records_seen() const;
  // Runs on disk now, and the records they hold.
  [[nodiscard]] std::size_t spilled_runs() const;
  [[nodiscard]] std::size_t spilled_records() const;
  // Bytes held in memory: the table, the filter, the fence indexes and the
  // block buffer (merge buffers exist only during a merge).
  [[nodiscard]] std::size_t memory_bytes() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace salesflow::core
