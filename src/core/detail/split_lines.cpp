#include "core/detail/split_lines.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>

#include "core/detail/emitter.hpp"

namespace salesflow::core {

namespace {

bool has_content(std::string_view bytes) {
  return std::any_of(bytes.begin(), bytes.end(), [](char c) { return !is_json_space(c); });
}

}  // namespace

LineSplitter::LineSplitter(std::uint64_t start_offset, std::size_t max_record_bytes)
    : max_record_bytes_(max_record_bytes), offset_(start_offset) {}

void LineSplitter::feed(std::string_view chunk, Emitter& out) {
  const char* const data = chunk.data();
  const std::size_t size = chunk.size();
  std::size_t pos = 0;
  while (pos < size) {
    const void* newline = std::memchr(data + pos, '\n', size - pos);
    if (newline == nullptr) {
      append_partial(chunk.substr(pos), offset_ + pos);
      break;
    }
    const auto end = static_cast<std::size_t>(static_cast<const char*>(newline) - data);
    if (!has_partial_) {
      emit_line(chunk.substr(pos, end - pos), offset_ + pos, out);
    } else {
      append_partial(chunk.substr(pos, end - pos), offset_ + pos);
      complete_partial(out);
    }
    ++line_;
    pos = end + 1;
  }
  offset_ += size;
}

void LineSplitter::finish(Emitter& out) {
  if (has_partial_) {
    complete_partial(out);
  }
}

void LineSplitter::emit_line(std::string_view line, std::uint64_t offset, Emitter& out) const {
  if (line.size() > max_record_bytes_) {
    if (has_content(line)) {
      out.fault(offset, offset + line.size(), ReasonCode::too_large,
                fmt::format("line {} has {} bytes, more than the limit of {}", line_, line.size(),
                            max_record_bytes_),
                line);
    }
    return;
  }
  std::size_t begin = 0;
  std::size_t end = line.size();
  while (begin < end && is_json_space(line[begin])) ++begin;
  while (end > begin && is_json_space(line[end - 1])) --end;
  if (begin < end) {
    out.record(line.substr(begin, end - begin), offset + begin, line_);
  }
}

void LineSplitter::append_partial(std::string_view part, std::uint64_t offset) {
  if (!has_partial_) {
    has_partial_ = true;
    partial_offset_ = offset;
  }
  if (oversize_) {
    oversize_bytes_ += part.size();
    append_excerpt(oversize_excerpt_, part);
    oversize_has_content_ = oversize_has_content_ || has_content(part);
    return;
  }
  if (partial_.size() + part.size() <= max_record_bytes_) {
    partial_.append(part);
    return;
  }
  oversize_ = true;
  oversize_bytes_ = partial_.size() + part.size();
  oversize_has_content_ = has_content(partial_) || has_content(part);
  oversize_excerpt_ = partial_.substr(0, kExcerptBytes);
  append_excerpt(oversize_excerpt_, part);
  std::string().swap(partial_);  // give the memory back
}

void LineSplitter::complete_partial(Emitter& out) {
  if (oversize_) {
    if (oversize_has_content_) {
      out.fault(partial_offset_, partial_offset_ + oversize_bytes_, ReasonCode::too_large,
                fmt::format("line {} has {} bytes, more than the limit of {}", line_,
                            oversize_bytes_, max_record_bytes_),
                oversize_excerpt_);
    }
    oversize_ = false;
    oversize_has_content_ = false;
    oversize_bytes_ = 0;
    oversize_excerpt_.clear();
  } else {
    emit_line(partial_, partial_offset_, out);
    partial_.clear();
  }
  has_partial_ = false;
}

}  // namespace salesflow::core
