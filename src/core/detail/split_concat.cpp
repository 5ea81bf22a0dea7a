#include "core/detail/split_concat.hpp"

#include <emmintrin.h>
#include <fmt/format.h>

#include <algorithm>
#include <cstring>

#include "core/detail/emitter.hpp"

namespace salesflow::core {

namespace {

// The '\n' bytes of data[0, size): byte counters of 16 lanes, summed every
// 255 blocks before they can overflow.
std::uint64_t count_newlines(const char* data, std::size_t size) {
  const __m128i newline = _mm_set1_epi8('\n');
  std::uint64_t total = 0;
  std::size_t pos = 0;
  while (size - pos >= 16) {
    const std::size_t blocks = std::min<std::size_t>((size - pos) / 16, 255);
    __m128i counts = _mm_setzero_si128();
    for (std::size_t i = 0; i < blocks; ++i, pos += 16) {
      const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(data + pos));
      counts = _mm_sub_epi8(counts, _mm_cmpeq_epi8(bytes, newline));
    }
    const __m128i sums = _mm_sad_epu8(counts, _mm_setzero_si128());
    total += static_cast<std::uint64_t>(_mm_cvtsi128_si32(sums)) +
             static_cast<std::uint64_t>(_mm_extract_epi16(sums, 4));
  }
  for (; pos < size; ++pos) total += data[pos] == '\n' ? 1 : 0;
  return total;
}

}  // namespace

ConcatSplitter::ConcatSplitter(std::uint64_t start_offset, std::size_t max_record_bytes)
    : max_record_bytes_(max_record_bytes), offset_(start_offset) {}

void ConcatSplitter::feed(std::string_view chunk, Emitter& out) {
  const std::size_t size = chunk.size();
  lines_counted_ = 0;
  searched_ = false;
  std::size_t pos = 0;
  while (pos < size) {
    if (state_ == State::in_document) {
      pos = continue_document(chunk, pos, out);
      continue;
    }
    if (state_ == State::in_garbage) {
      pos = continue_garbage(chunk, pos, out);
      continue;
    }
    if (is_json_space(chunk[pos])) {
      ++pos;
      continue;
    }
    pos = start_document(chunk, pos, out);
  }
  line_at(chunk, size);
  if (size > 0) chunk_starts_line_ = chunk[size - 1] == '\n';
  offset_ += size;
}

std::size_t ConcatSplitter::start_document(std::string_view chunk, std::size_t pos, Emitter& out) {
  const char c = chunk[pos];
  if (c != '{' && c != '[' && !may_start_json_scalar(c)) {
    garbage_begin_ = offset_ + pos;
    garbage_line_ = line_at(chunk, pos);
    excerpt_.clear();
    state_ = State::in_garbage;
    return continue_garbage(chunk, pos, out);
  }
  document_begin_ = offset_ + pos;
  document_line_ = line_at(chunk, pos);
  document_index_ = pos;
  began_earlier_ = false;
  oversize_ = false;
  state_ = State::in_document;
  bare_ = c != '{' && c != '[' && c != '"';
  if (bare_) return continue_document(chunk, pos, out);
  nesting_ = c == '"' ? NestingState{0, true, false} : NestingState{1, false, false};
  return continue_document(chunk, pos + 1, out);
}

std::size_t ConcatSplitter::continue_document(std::string_view chunk, std::size_t pos,
                                              Emitter& out) {
  const std::size_t size = chunk.size();
  const std::size_t first = began_earlier_ ? 0 : document_index_;
  std::size_t end = pos;
  std::size_t limit = size;
  bool ended = false;
  if (bare_) {
    while (end < size && is_bare_byte(chunk[end])) ++end;
    ended = end < size;
  } else {
    limit = next_line_start_brace(chunk, began_earlier_ ? 0 : document_index_ + 1);
    end = scan_value_end(chunk.data(), pos, limit, nesting_, ended);
  }
  const std::string_view part = chunk.substr(first, end - first);
  if (ended) {
    complete_document(part, offset_ + end, out);
    return end;
  }
  if (limit < size) {
    out.fault(document_begin_, offset_ + limit, ReasonCode::malformed_json,
              fmt::format("the document starting at line {} is not complete where line {} "
                          "starts the next one with '{{'",
                          document_line_, line_at(chunk, limit)),
              document_excerpt(part));
    reset_document();
    return limit;
  }
  hold_document(part, offset_ + size);
  return size;
}

void ConcatSplitter::complete_document(std::string_view tail, std::uint64_t end, Emitter& out) {
  const std::uint64_t length = end - document_begin_;
  if (oversize_ || length > max_record_bytes_) {
    out.fault(document_begin_, end, ReasonCode::too_large,
              fmt::format("the document starting at line {} has {} bytes, more than the limit "
                          "of {}",
                          document_line_, length, max_record_bytes_),
              document_excerpt(tail));
  } else if (began_earlier_) {
    buffer_.append(tail);
    out.record(buffer_, document_begin_, document_line_);
  } else {
    out.record(tail, document_begin_, document_line_);
  }
  reset_document();
}

void ConcatSplitter::hold_document(std::string_view part, std::uint64_t end) {
  began_earlier_ = true;
  if (oversize_) {
    append_excerpt(excerpt_, part);
  } else if (end - document_begin_ > max_record_bytes_) {
    oversize_ = true;
    excerpt_ = buffer_.substr(0, kExcerptBytes);
    append_excerpt(excerpt_, part);
    std::string().swap(buffer_);  // give the memory back
  } else {
    buffer_.append(part);
  }
}

std::string ConcatSplitter::document_excerpt(std::string_view tail) const {
  std::string excerpt = oversize_ ? excerpt_ : buffer_.substr(0, kExcerptBytes);
  append_excerpt(excerpt, tail);
  return excerpt;
}

void ConcatSplitter::reset_document() {
  state_ = State::between;
  buffer_.clear();
  began_earlier_ = false;
  oversize_ = false;
}

std::size_t ConcatSplitter::continue_garbage(std::string_view chunk, std::size_t pos,
                                             Emitter& out) {
  const std::size_t limit = next_line_start_brace(chunk, pos);
  append_excerpt(excerpt_, chunk.substr(pos, limit - pos));
  if (limit == chunk.size()) return limit;
  out.fault(garbage_begin_, offset_ + limit, ReasonCode::malformed_json,
            fmt::format("bytes at line {} start no JSON value; skipped to line {}, which starts "
                        "with '{{'",
                        garbage_line_, line_at(chunk, limit)),
            excerpt_);
  state_ = State::between;
  return limit;
}

std::size_t ConcatSplitter::next_line_start_brace(std::string_view chunk, std::size_t from) {
  if (searched_ && from >= searched_from_ && from <= found_) return found_;
  const char* const data = chunk.data();
  const std::size_t size = chunk.size();
  std::size_t pos = from;
  while (pos < size) {
    const void* brace = std::memchr(data + pos, '{', size - pos);
    if (brace == nullptr) {
      pos = size;
      break;
    }
    pos = static_cast<std::size_t>(static_cast<const char*>(brace) - data);
    if (pos == 0 ? chunk_starts_line_ : data[pos - 1] == '\n') break;
    ++pos;
  }
  searched_ = true;
  searched_from_ = from;
  found_ = pos;
  return pos;
}

std::uint64_t ConcatSplitter::line_at(std::string_view chunk, std::size_t pos) {
  if (pos > lines_counted_) {
    line_ += count_newlines(chunk.data() + lines_counted_, pos - lines_counted_);
    lines_counted_ = pos;
  }
  return line_;
}

void ConcatSplitter::finish(Emitter& out) {
  if (state_ == State::in_document && bare_) {
    complete_document({}, offset_, out);
  } else if (state_ == State::in_document) {
    out.fault(
        document_begin_, offset_, ReasonCode::malformed_json,
        fmt::format("the stream ends inside the document starting at line {}", document_line_),
        document_excerpt({}));
    reset_document();
  } else if (state_ == State::in_garbage) {
    out.fault(garbage_begin_, offset_, ReasonCode::malformed_json,
              fmt::format("bytes at line {} start no JSON value, up to the end of the stream",
                          garbage_line_),
              excerpt_);
    state_ = State::between;
  }
}

}  // namespace salesflow::core
