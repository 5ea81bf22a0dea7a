// Watermark on its own: out-of-order acknowledgements, acknowledgements that
// never come (a failed write holds the mark back), the edges of its segments,
// a resumed run, and a property against a naive model (a multiset of awaited
// acknowledgements; the mark = the start of the segment of the first record
// not known to be durable, never past the reader) under random orders.

#include "pipeline/detail/watermark.hpp"

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <map>
#include <ostream>
#include <set>
#include <utility>
#include <vector>

namespace salesflow::pipeline {
namespace {

constexpr std::uint64_t kSeg = Watermark::kSegmentRecords;

}  // namespace

// For gtest's and rapidcheck's messages.
std::ostream& operator<<(std::ostream& os, const Watermark::Mark& mark) {
  return os << "{next_index " << mark.next_index << ", offset " << mark.offset << "}";
}

namespace {

// The stream offset just past record `index` in these tests.
[[nodiscard]] std::uint64_t offset_after(std::uint64_t index) {
  return 1000 * (index + 1) + 7;
}

// Hands out records [from, to) to the watermark, adding one awaited
// acknowledgement on each of `awaited` as the record is routed.
void read(Watermark& mark, std::uint64_t from, std::uint64_t to,
          const std::set<std::uint64_t>& awaited = {}) {
  for (std::uint64_t i = from; i < to; ++i) {
    if (awaited.contains(i)) mark.add(i);
    mark.reader_at(i + 1, offset_after(i));
  }
}

// Records [from, to), each awaiting one acknowledgement.
[[nodiscard]] std::set<std::uint64_t> range(std::uint64_t from, std::uint64_t to) {
  std::set<std::uint64_t> out;
  for (std::uint64_t i = from; i < to; ++i) out.insert(i);
  return out;
}

[[nodiscard]] Watermark::Mark at(std::uint64_t next_index) {
  return Watermark::Mark{next_index, next_index == 0 ? 0 : offset_after(next_index - 1)};
}

TEST(Watermark, StartsAtZero) {
  Watermark mark(0);
  EXPECT_EQ(mark.advance(), at(0));
}

TEST(Watermark, MovesBySegmentsOnceTheReaderIsPastThem) {
  Watermark mark(0);
  read(mark, 0, kSeg - 1, range(0, kSeg - 1));
  for (std::uint64_t i = 0; i + 1 < kSeg; ++i) mark.ack(i);
  // The segment's last record is not read yet.
  EXPECT_EQ(mark.advance(), at(0));
  read(mark, kSeg - 1, kSeg, {kSeg - 1});
  EXPECT_EQ(mark.advance(), at(0));
  mark.ack(kSeg - 1);
  EXPECT_EQ(mark.advance(), at(kSeg));
  // Everything acknowledged, reader inside the next segment: its start.
  read(mark, kSeg, kSeg + 40);
  EXPECT_EQ(mark.advance(), at(kSeg));
}

TEST(Watermark, OutOfOrderAcknowledgementsMoveItOnlyWhenTheFirstSegmentIsDone) {
  Watermark mark(0);
  read(mark, 0, 3 * kSeg, range(0, 3 * kSeg));
  // The last two segments first, in reverse order.
  for (std::uint64_t i = 3 * kSeg; i-- > kSeg;) {
    mark.ack(i);
    ASSERT_EQ(mark.advance(), at(0)) << "after acknowledging " << i;
  }
  // Then the first segment, all but its first record.
  for (std::uint64_t i = kSeg; i-- > 1;) mark.ack(i);
  EXPECT_EQ(mark.advance(), at(0));
  mark.ack(0);
  EXPECT_EQ(mark.advance(), at(3 * kSeg));
}

TEST(Watermark, InterleavedAcknowledgementsAcrossSegments) {
  Watermark mark(0);
  read(mark, 0, 2 * kSeg, range(0, 2 * kSeg));
  // Odd records of both segments, then even records of the second.
  for (std::uint64_t i = 1; i < 2 * kSeg; i += 2) mark.ack(i);
  for (std::uint64_t i = kSeg; i < 2 * kSeg; i += 2) mark.ack(i);
  EXPECT_EQ(mark.advance(), at(0));
  for (std::uint64_t i = 0; i < kSeg; i += 2) mark.ack(i);
  EXPECT_EQ(mark.advance(), at(2 * kSeg));
}

TEST(Watermark, SeveralAcknowledgementsOnOneRecordAllCount) {
  // A conflict: the item's acknowledgement comes after its envelope's, which
  // was added before it.
  Watermark mark(0);
  read(mark, 0, kSeg, {7});
  mark.add(7);  // the conflict's envelope
  mark.ack(7);  // the envelope sent
  EXPECT_EQ(mark.advance(), at(0));
  mark.ack(7);  // the item's outcome handled
  EXPECT_EQ(mark.advance(), at(kSeg));
}

TEST(Watermark, AFailedRecordHoldsTheMarkBackForGood) {
  Watermark mark(0);
  const std::uint64_t failed = kSeg + 17;
  read(mark, 0, 10 * kSeg, range(0, 10 * kSeg));
  for (std::uint64_t i = 0; i < 10 * kSeg; ++i) {
    if (i != failed) mark.ack(i);
  }
  EXPECT_EQ(mark.advance(), at(kSeg));
  read(mark, 10 * kSeg, 20 * kSeg);
  EXPECT_EQ(mark.advance(), at(kSeg));
}

TEST(Watermark, AFailedFirstOrLastRecordOfASegmentHoldsItsStart) {
  for (const std::uint64_t failed : {kSeg, 2 * kSeg - 1}) {
    Watermark mark(0);
    read(mark, 0, 4 * kSeg, range(0, 4 * kSeg));
    for (std::uint64_t i = 0; i < 4 * kSeg; ++i) {
      if (i != failed) mark.ack(i);
    }
    EXPECT_EQ(mark.advance(), at(kSeg)) << "failed record " << failed;
  }
}

TEST(Watermark, AFaultAwaitsItsEnvelopeOnTheIndexAfterIt) {
  // A fault between records 255 and 256 counts on 256 (records_before): the
  // segment before it is done, the one it opens is not.
  Watermark mark(0);
  read(mark, 0, kSeg);
  mark.add(kSeg);
  EXPECT_EQ(mark.advance(), at(kSeg));
  read(mark, kSeg, 3 * kSeg);
  EXPECT_EQ(mark.advance(), at(kSeg));
  mark.ack(kSeg);
  EXPECT_EQ(mark.advance(), at(3 * kSeg));
}

TEST(Watermark, AFaultAtTheEndOfTheStreamHoldsTheMarkBelowIt) {
  // A fault after the last record (records_before = the record count).
  Watermark mark(0);
  read(mark, 0, kSeg + 5);
  mark.add(kSeg + 5);
  EXPECT_EQ(mark.advance(), at(kSeg));
  mark.ack(kSeg + 5);
  EXPECT_EQ(mark.advance(), at(kSeg));
}

TEST(Watermark, SegmentsWithNothingAwaitedAreDoneWhenRead) {
  // Duplicates and skipped records await nothing.
  Watermark mark(0);
  read(mark, 0, 4 * kSeg);
  EXPECT_EQ(mark.advance(), at(4 * kSeg));
  // An awaited record beyond empty segments: those are done, its own is not.
  read(mark, 4 * kSeg, 7 * kSeg + 3, {7 * kSeg + 2});
  EXPECT_EQ(mark.advance(), at(7 * kSeg));
  mark.ack(7 * kSeg + 2);
  read(mark, 7 * kSeg + 3, 8 * kSeg);
  EXPECT_EQ(mark.advance(), at(8 * kSeg));
}

TEST(Watermark, EmptySegmentsBetweenAwaitedOnesWaitForTheFirst) {
  Watermark mark(0);
  read(mark, 0, 5 * kSeg, {3, 4 * kSeg + 1});
  EXPECT_EQ(mark.advance(), at(0));
  mark.ack(4 * kSeg + 1);
  EXPECT_EQ(mark.advance(), at(0));
  mark.ack(3);
  EXPECT_EQ(mark.advance(), at(5 * kSeg));
}

TEST(Watermark, AdvanceOnlyWhenAskedYetTheSameMark) {
  // advance() may be called rarely: the mark it finds does not depend on how
  // often it was called before.
  Watermark often(0);
  Watermark once(0);
  for (std::uint64_t i = 0; i < 6 * kSeg; ++i) {
    for (Watermark* mark : {&often, &once}) {
      mark->add(i);
      mark->reader_at(i + 1, offset_after(i));
      if (i >= 3) mark->ack(i - 3);
    }
    (void)often.advance();
  }
  EXPECT_EQ(often.advance(), once.advance());
  EXPECT_EQ(once.advance(), at(5 * kSeg));
}

TEST(Watermark, AResumedRunNeverClaimsMoreThanTheReaderRead) {
  // Resumed at 300: records below it were made durable by an earlier run and
  // are read again without being routed.
  const std::uint64_t resume = kSeg + 44;
  Watermark mark(resume);
  read(mark, 0, 100);
  EXPECT_EQ(mark.advance().next_index, 100U);
  read(mark, 100, resume);
  EXPECT_EQ(mark.advance(), at(kSeg));
  read(mark, resume, 2 * kSeg, range(resume, 2 * kSeg));
  EXPECT_EQ(mark.advance(), at(kSeg));
  for (std::uint64_t i = resume; i < 2 * kSeg; ++i) mark.ack(i);
  EXPECT_EQ(mark.advance(), at(2 * kSeg));
}

TEST(Watermark, TheOffsetIsTheOneReadAtTheMark) {
  Watermark mark(0);
  read(mark, 0, 3 * kSeg + 9, {2 * kSeg + 100});
  const Watermark::Mark now = mark.advance();
  EXPECT_EQ(now.next_index, 2 * kSeg);
  EXPECT_EQ(now.offset, offset_after(2 * kSeg - 1));
}

// The naive model: the awaited acknowledgements as a multiset of indices; the
// first record not known to be durable is the smallest of them, or the
// reader's position (records below the resume point are durable already).
class Model {
 public:
  explicit Model(std::uint64_t first_index) : first_index_(first_index) {}

  void add(std::uint64_t index) { awaited_.insert(index); }
  void ack(std::uint64_t index) { awaited_.erase(awaited_.find(index)); }
  void reader_at(std::uint64_t next_index, std::uint64_t offset) {
    reader_next_ = next_index;
    if (next_index % kSeg == 0) offsets_[next_index] = offset;
  }

  [[nodiscard]] std::uint64_t durable() const {
    const std::uint64_t first_awaited =
        awaited_.empty() ? std::numeric_limits<std::uint64_t>::max() : *awaited_.begin();
    return std::min(first_awaited, std::max(reader_next_, first_index_));
  }
  [[nodiscard]] Watermark::Mark mark() const {
    const std::uint64_t next = std::min(reader_next_, durable() / kSeg * kSeg);
    const auto above = offsets_.upper_bound(next);
    const std::uint64_t offset = above == offsets_.begin() ? 0 : std::prev(above)->second;
    return Watermark::Mark{next, offset};
  }

 private:
  std::uint64_t first_index_;
  std::uint64_t reader_next_ = 0;
  std::multiset<std::uint64_t> awaited_;
  std::map<std::uint64_t, std::uint64_t> offsets_;
};

// What the processor does with a routed record, as acknowledgements awaited.
enum class Route {
  nothing,   // a duplicate
  write,     // an item, acknowledged by its write
  envelope,  // a rejected record's DLQ message
  conflict,  // an item refused by the table: an envelope added before its ack
  failed,    // a write that fails: never acknowledged
};

struct Awaited {
  std::uint64_t index;
  bool conflict;
};

RC_GTEST_PROP(Watermark, MatchesTheNaiveModelUnderRandomAcknowledgementOrders, ()) {
  // Rapidcheck's size scales the record count only; every choice of the run
  // is drawn from its whole range.
  const auto roll = [](std::size_t n) {
    return *rc::gen::resize(100, rc::gen::inRange<std::size_t>(0, n));
  };
  const auto records = *rc::gen::inRange<std::uint64_t>(0, 8 * kSeg);
  const std::uint64_t first_index = roll(2) == 0 ? 0 : roll(records + 1);
  // Failures in half the runs only, and rare (3 in 1000 records), so that
  // the mark also travels far before one holds it.
  const std::size_t failed_per_mille = 3 * roll(2);
  const auto route_gen = rc::gen::weightedElement<Route>(
      {{3, Route::nothing}, {10, Route::write}, {3, Route::envelope}, {2, Route::conflict}});
  const std::size_t fault_percent = roll(30);
  const std::size_t ack_percent = 10 + roll(80);

  Watermark mark(first_index);
  Model model(first_index);
  std::vector<Awaited> awaited;  // acknowledgements still to come, in no order
  std::uint64_t next = 0;        // the next record the reader hands out
  Watermark::Mark last{0, 0};
  const auto expect = [&] {
    const Watermark::Mark now = mark.advance();
    RC_ASSERT(now == model.mark());
    RC_ASSERT(now.next_index <= model.durable());  // never past a record not durable
    RC_ASSERT(now.next_index >= last.next_index);  // never falls
    last = now;
  };
  const auto await = [&](std::uint64_t index, bool conflict) {
    mark.add(index);
    model.add(index);
    awaited.push_back(Awaited{index, conflict});
  };

  while (next < records || !awaited.empty()) {
    const bool acknowledge = !awaited.empty() && (next == records || roll(100) < ack_percent);
    if (acknowledge) {
      const std::size_t pick = roll(awaited.size());
      const Awaited done = awaited[pick];
      awaited[pick] = awaited.back();
      awaited.pop_back();
      if (done.conflict) await(done.index, false);  // the envelope, before the item's ack
      mark.ack(done.index);
      model.ack(done.index);
    } else {
      // A fault before the record counts on its index (records_before).
      if (next >= first_index && roll(100) < fault_percent) await(next, false);
      if (next >= first_index) {
        switch (roll(1000) < failed_per_mille ? Route::failed : *route_gen) {
          case Route::nothing:
            break;
          case Route::write:
          case Route::envelope:
            await(next, false);
            break;
          case Route::conflict:
            await(next, true);
            break;
          case Route::failed:
            mark.add(next);
            model.add(next);
            break;
        }
      }
      mark.reader_at(next + 1, offset_after(next));
      model.reader_at(next + 1, offset_after(next));
      ++next;
    }
    if (roll(4) == 0) expect();
  }
  // A fault after the last record, never sent, sometimes.
  if (records >= first_index && roll(4) == 0) {
    mark.add(records);
    model.add(records);
  }
  expect();
  RC_CLASSIFY(last.next_index >= kSeg, "the mark moved");
  RC_CLASSIFY(failed_per_mille != 0, "with failed writes");
  RC_CLASSIFY(first_index >= kSeg, "resumed past a segment");
}

}  // namespace
}  // namespace salesflow::pipeline
