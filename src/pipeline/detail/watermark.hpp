#pragma once
// The durable progress through one object: the index of the first record that
// is not known to be durable, which a checkpoint may record (a rerun resumes
// there and sends nothing below it again).
//
// What it tracks. Each record (by its 0-based index in the object) may await
// acknowledgements: an item write, a DLQ message, an offload upload, a fault
// counted on the index of the record after it (`records_before`). add() counts
// one more awaited acknowledgement on an index, ack() one fewer; reader_at()
// says the reader has handed out every record below `next_index`. A record
// that awaits nothing (a duplicate, a record below the resume point) is
// durable as soon as the reader is past it; one whose acknowledgement never
// comes (a failed write) holds the mark back for good.
//
// Granularity. Records are counted in fixed segments of kSegmentRecords: a
// segment is done when the reader is past its last record and nothing in it
// awaits an acknowledgement. The mark is the start of the first segment not
// done (at least the segment of `first_index`), but never past the reader.
// With `durable` the first record not known to be durable,
//   durable = min(first index awaiting an acknowledgement,
//                 max(reader_next, first_index)),
//   mark    = min(reader_next, segment_start(durable)),
// so the mark never passes a record that is not durable, and lags `durable`
// by at most kSegmentRecords - 1 records once the reader is at first_index
// (a rerun sends those again; the sinks make that idempotent).
//
// Invariants (the caller's part):
//   - add(i) only for an index the reader has not yet passed (i >= the
//     reader's next index: the record being routed, or a fault before the
//     next record) and i >= first_index, or for an index that already awaits
//     an acknowledgement (a conflict's envelope before the item's ack);
//   - ack(i) only for an earlier add(i);
//   - reader_at() with next indices one after another, offsets not falling.
// Under them a segment once done stays done, and the mark never falls.
//
// Offsets. reader_at() remembers the stream offset at each segment start; the
// mark's offset is the one remembered at the last segment start at or below
// the mark (0 before the first). It is exact whenever the mark is a segment
// start, which it is except while a resumed run is re-reading the records
// below its first segment. Informational only: resuming goes by index.
//
// Cost: add, ack and reader_at are O(1) (amortised: a deque slot per
// segment); advance is amortised O(1) over a run (each segment and each
// remembered offset is dropped once). Memory: 8 bytes per segment from the
// mark to the highest segment with an awaited acknowledgement, and 16 bytes
// per segment start the reader passed since the mark. Not synchronised: the
// caller serialises all calls (ObjectProcessor holds its mutex).

#include <cstdint>
#include <deque>
#include <utility>

namespace salesflow::pipeline {

class Watermark {
 public:
  static constexpr std::uint64_t kSegmentRecords = 256;

  // The durable prefix: records [0, next_index) are durable; `offset` is the
  // stream offset of record next_index (see Offsets above).
  struct Mark {
    std::uint64_t next_index = 0;
    std::uint64_t offset = 0;

    friend bool operator==(const Mark&, const Mark&) = default;
  };

  // `first_index`: the first record this run routes (the resume point); every
  // record below it is durable already.
  explicit Watermark(std::uint64_t first_index);

  // One more acknowledgement awaited on record `index`.
  void add(std::uint64_t index);
  // One awaited acknowledgement on record `index` arrived.
  void ack(std::uint64_t index);

  // The reader has handed out every record below `next_index`; `offset` is
  // the stream offset just past record next_index - 1.
  void reader_at(std::uint64_t next_index, std::uint64_t offset);

  // Drops the segments that are done and returns the mark. Never falls
  // between calls.
  [[nodiscard]] Mark advance();

 private:
  [[nodiscard]] std::int64_t& slot(std::uint64_t index);

  std::deque<std::int64_t> pending_;  // awaited acknowledgements per segment from base_
  std::uint64_t base_;                // first segment not known to be done
  std::uint64_t base_offset_ = 0;     // offset of the last segment start at or below the mark
  std::uint64_t reader_next_ = 0;
  std::deque<std::pair<std::uint64_t, std::uint64_t>> offsets_;  // (segment start, offset)
};

}  // namespace salesflow::pipeline
