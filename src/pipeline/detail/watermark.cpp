#include "pipeline/detail/watermark.hpp"

#include <algorithm>

namespace salesflow::pipeline {

Watermark::Watermark(std::uint64_t first_index) : base_(first_index / kSegmentRecords) {}

void Watermark::add(std::uint64_t index) {
  ++slot(index);
}

void Watermark::ack(std::uint64_t index) {
  --slot(index);
}

void Watermark::reader_at(std::uint64_t next_index, std::uint64_t offset) {
  if (next_index % kSegmentRecords == 0) {
    offsets_.emplace_back(next_index, offset);
  }
  reader_next_ = next_index;
}

Watermark::Mark Watermark::advance() {
  while (!pending_.empty() && pending_.front() == 0 &&
         reader_next_ >= (base_ + 1) * kSegmentRecords) {
    pending_.pop_front();
    ++base_;
  }
  if (pending_.empty() && reader_next_ >= base_ * kSegmentRecords) {
    // Nothing outstanding: whole segments up to the reader are durable.
    base_ = reader_next_ / kSegmentRecords;
  }
  const std::uint64_t next = std::min(base_ * kSegmentRecords, reader_next_);
  while (!offsets_.empty() && offsets_.front().first < next) {
    base_offset_ = offsets_.front().second;
    offsets_.pop_front();
  }
  if (!offsets_.empty() && offsets_.front().first == next) {
    base_offset_ = offsets_.front().second;
  }
  return Mark{next, base_offset_};
}

std::int64_t& Watermark::slot(std::uint64_t index) {
  const std::uint64_t segment = index / kSegmentRecords;
  while (pending_.size() <= segment - base_) {
    pending_.push_back(0);
  }
  return pending_[segment - base_];
}

}  // namespace salesflow::pipeline
