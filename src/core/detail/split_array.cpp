#include "core/detail/split_array.hpp"

#include <fmt/format.h>

#include <utility>

#include "core/detail/emitter.hpp"

namespace salesflow::core {

ArraySplitter::ArraySplitter(ArrayLayout layout, std::string wrapper_member,
                             std::uint64_t start_offset, std::size_t max_record_bytes)
    : layout_(layout),
      wrapper_member_(std::move(wrapper_member)),
      max_record_bytes_(max_record_bytes),
      start_offset_(start_offset),
      offset_(start_offset),
      state_(layout == ArrayLayout::bare_array ? State::expect_array_open
                                               : State::expect_object_open) {}

void ArraySplitter::feed(std::string_view chunk, Emitter& out) {
  const std::size_t size = chunk.size();
  if (head_.size() < kExcerptBytes) append_excerpt(head_, chunk);
  std::size_t pos = 0;
  while (pos < size) {
    if (state_ == State::broken) {
      if (!fault_excerpt_from_head_) append_excerpt(fault_excerpt_, chunk.substr(pos));
      break;
    }
    if (state_ == State::in_element || state_ == State::in_member_value) {
      pos = continue_value(chunk, pos, out);
      continue;
    }
    if (state_ == State::in_key) {
      pos = continue_key(chunk, pos);
      continue;
    }
    const char c = chunk[pos];
    if (is_json_space(c)) {
      ++pos;
      continue;
    }
    pos = step(chunk, pos, c, out);
  }
  offset_ += size;
}

std::size_t ArraySplitter::step(std::string_view chunk, std::size_t pos, char c, Emitter& out) {
  switch (state_) {
    case State::expect_array_open:
      if (c != '[') return fail(chunk, pos, ReasonCode::malformed_json, "expected '['");
      state_ = State::expect_first_element;
      return pos + 1;
    case State::expect_first_element:
      if (c == ']') {
        close_array();
        return pos + 1;
      }
      return start_value(chunk, pos, true, out);
    case State::expect_element:
      if (c == ']') {
        return fail(chunk, pos, ReasonCode::malformed_json, "expected a value after ','");
      }
      return start_value(chunk, pos, true, out);
    case State::after_element:
      if (c == ',') {
        state_ = State::expect_element;
        return pos + 1;
      }
      if (c == ']') {
        close_array();
        return pos + 1;
      }
      return fail(chunk, pos, ReasonCode::malformed_json, "expected ',' or ']' after an element");
    case State::expect_object_open:
      if (c != '{') return fail(chunk, pos, ReasonCode::malformed_json, "expected '{'");
      object_begin_ = offset_ + pos;
      state_ = State::expect_first_key;
      return pos + 1;
    case State::expect_first_key:
      if (c == '}') {
        close_object();
        return pos + 1;
      }
      if (c == '"') return start_key(pos);
      return fail(chunk, pos, ReasonCode::malformed_json, "expected a member name or '}'");
    case State::expect_key:
      if (c == '"') return start_key(pos);
      return fail(chunk, pos, ReasonCode::malformed_json, "expected a member name after ','");
    case State::expect_colon:
      if (c != ':') return fail(chunk, pos, ReasonCode::malformed_json, "expected ':'");
      state_ = State::expect_member_value;
      return pos + 1;
    case State::expect_member_value:
      if (!key_matches_) return start_value(chunk, pos, false, out);
      if (wrapper_seen_) {
        return fail(chunk, pos, ReasonCode::duplicate_member,
                    fmt::format("a second member \"{}\"", wrapper_member_));
      }
      if (c != '[') {
        return fail(chunk, pos, ReasonCode::wrong_type,
                    fmt::format("member \"{}\" is not an array", wrapper_member_));
      }
      wrapper_seen_ = true;
      state_ = State::expect_first_element;
      return pos + 1;
    case State::after_member_value:
      if (c == ',') {
        state_ = State::expect_key;
        return pos + 1;
      }
      if (c == '}') {
        close_object();
        return pos + 1;
      }
      return fail(chunk, pos, ReasonCode::malformed_json, "expected ',' or '}' after a member");
    case State::trailing:
      return fail(chunk, pos, ReasonCode::malformed_json,
                  "content after the end of the top-level value");
    case State::in_element:
    case State::in_member_value:
    case State::in_key:
    case State::broken:
      break;  // handled by feed
  }
  return pos;
}

std::size_t ArraySplitter::start_value(std::string_view chunk, std::size_t pos, bool is_element,
                                       Emitter& out) {
  const char c = chunk[pos];
  if (c == '{' || c == '[') {
    kind_ = ValueKind::nested;
    nesting_ = NestingState{1, false, false};
  } else if (c == '"') {
    kind_ = ValueKind::string;
    nesting_ = NestingState{0, true, false};
  } else if (is_bare_byte(c)) {
    kind_ = ValueKind::bare;
  } else {
    return fail(chunk, pos, ReasonCode::malformed_json, "expected a value");
  }
  value_begin_ = offset_ + pos;
  value_began_earlier_ = false;
  oversize_ = false;
  state_ = is_element ? State::in_element : State::in_member_value;
  // Scan on at once, so that a value starting at the chunk's end is buffered.
  return continue_value(chunk, kind_ == ValueKind::bare ? pos : pos + 1, out);
}

std::size_t ArraySplitter::continue_value(std::string_view chunk, std::size_t pos, Emitter& out) {
  const std::size_t size = chunk.size();
  std::size_t end = pos;
  bool ended = false;
  if (kind_ == ValueKind::bare) {
    while (end < size && is_bare_byte(chunk[end])) ++end;
    ended = end < size;
  } else {
    end = scan_value_end(chunk.data(), pos, size, nesting_, ended);
  }
  const std::size_t segment_begin =
      value_began_earlier_ ? 0 : static_cast<std::size_t>(value_begin_ - offset_);
  const bool is_element = state_ == State::in_element;
  if (!ended) {
    if (is_element && oversize_) {
      append_excerpt(value_excerpt_, chunk.substr(segment_begin));
    } else if (is_element) {
      if (offset_ + size - value_begin_ > max_record_bytes_) {
        oversize_ = true;
        value_excerpt_ = buffer_.substr(0, kExcerptBytes);
        append_excerpt(value_excerpt_, chunk.substr(segment_begin));
        std::string().swap(buffer_);  // give the memory back
      } else {
        buffer_.append(chunk.substr(segment_begin));
      }
    }
    value_began_earlier_ = true;
    return size;
  }
  if (!is_element) {
    state_ = State::after_member_value;
    return end;
  }
  state_ = State::after_element;
  const std::uint64_t length = offset_ + end - value_begin_;
  const std::string_view tail = chunk.substr(segment_begin, end - segment_begin);
  if (oversize_ || length > max_record_bytes_) {
    std::string excerpt = oversize_ ? value_excerpt_ : buffer_.substr(0, kExcerptBytes);
    append_excerpt(excerpt, tail);
    out.fault(
        value_begin_, value_begin_ + length, ReasonCode::too_large,
        fmt::format("element of {} bytes, more than the limit of {}", length, max_record_bytes_),
        excerpt);
    buffer_.clear();
    oversize_ = false;
  } else if (value_began_earlier_) {
    buffer_.append(tail);
    out.record(buffer_, value_begin_, 0);
    buffer_.clear();
  } else {
    out.record(tail, value_begin_, 0);
  }
  value_began_earlier_ = false;
  return end;
}

std::size_t ArraySplitter::start_key(std::size_t pos) {
  key_begin_ = offset_ + pos;
  key_.clear();
  key_escape_ = false;
  key_too_long_ = false;
  state_ = State::in_key;
  return pos + 1;
}

std::size_t ArraySplitter::continue_key(std::string_view chunk, std::size_t pos) {
  // An escaped name is at most 6 bytes per byte of the decoded name.
  const std::size_t longest_match = 6 * wrapper_member_.size();
  for (; pos < chunk.size(); ++pos) {
    const char c = chunk[pos];
    if (!key_escape_ && c == '"') {
      key_matches_ = !key_too_long_ && json_string_equals(key_, wrapper_member_);
      state_ = State::expect_colon;
      return pos + 1;
    }
    key_escape_ = !key_escape_ && c == '\\';
    if (key_.size() < longest_match) {
      key_.push_back(c);
    } else {
      key_too_long_ = true;
    }
  }
  return pos;
}

void ArraySplitter::close_array() {
  state_ = layout_ == ArrayLayout::wrapped ? State::after_member_value : State::trailing;
}

void ArraySplitter::close_object() {
  if (wrapper_seen_) {
    state_ = State::trailing;
    return;
  }
  fail_at(object_begin_, ReasonCode::wrong_type,
          fmt::format("the top-level object has no array member \"{}\"", wrapper_member_));
  // The excerpt is the object's start, taken from head_ at finish.
  fault_excerpt_from_head_ = true;
}

std::size_t ArraySplitter::fail(std::string_view /*chunk*/, std::size_t pos, ReasonCode code,
                                std::string message) {
  fail_at(offset_ + pos, code, std::move(message));
  return pos;  // feed collects the excerpt from here on
}

void ArraySplitter::fail_at(std::uint64_t begin, ReasonCode code, std::string message) {
  state_ = State::broken;
  fault_begin_ = begin;
  fault_code_ = code;
  fault_message_ = std::move(message);
  fault_excerpt_.clear();
  fault_excerpt_from_head_ = false;
}

void ArraySplitter::finish(Emitter& out) {
  switch (state_) {
    case State::trailing:
      return;
    case State::broken:
      break;
    case State::in_element:
      fail_at(value_begin_, ReasonCode::malformed_json, "the stream ends inside an element");
      fault_excerpt_ = oversize_ ? value_excerpt_ : buffer_.substr(0, kExcerptBytes);
      break;
    case State::in_member_value:
      fail_at(value_begin_, ReasonCode::malformed_json, "the stream ends inside a member value");
      break;
    case State::in_key:
      fail_at(key_begin_, ReasonCode::malformed_json, "the stream ends inside a member name");
      fault_excerpt_ = key_.substr(0, kExcerptBytes);
      break;
    default:
      fail_at(offset_, ReasonCode::malformed_json,
              "the stream ends before the top-level value is complete");
      break;
  }
  if (fault_excerpt_from_head_) {
    const auto skipped = static_cast<std::size_t>(fault_begin_ - start_offset_);
    fault_excerpt_ = skipped < head_.size() ? head_.substr(skipped) : std::string();
  }
  out.fault(fault_begin_, offset_, fault_code_, fault_message_, fault_excerpt_);
  state_ = State::trailing;
  buffer_.clear();
}

}  // namespace salesflow::core
