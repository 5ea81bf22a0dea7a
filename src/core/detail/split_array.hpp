#pragma once
// Splits a top-level JSON array, or the array member of a wrapper object, into
// the texts of its elements, fed in chunks of any size.
//
// Layouts:
//   bare_array: `[ e0, e1, ... ]`
//   wrapped:    `{ "k": v, ..., "<wrapper_member>": [ e0, e1, ... ], "k2": v2 }`
//     Members other than the wrapper member may come before and after it; their
//     values are skipped unread (they are not records). The member name is
//     compared after JSON unescaping ("ord\u0065rs" matches "orders").
//
// Every element is a record, whatever its type: `[1, "x", {...}]` gives three
// records (the validator rejects the scalars). An element's text runs from its
// first to its last byte, without the surrounding whitespace and commas.
// Elements are delimited by the byte scanner of detail/value_scan.hpp, which
// tracks strings, escapes and a single nesting depth counter for `[]{}`
// together; it does not validate the inside of an element (`{"a":]` balances,
// and the validator rejects it).
//
// Where the stream stops making sense (a missing comma, garbage between
// elements, a trailing comma, an unbalanced or truncated element, a wrapper
// object without the wrapper member, anything but whitespace after the end),
// every record before that point has been handed out and the rest of the
// stream [break, end of stream) becomes exactly one FileFault, reported by
// finish(). An element longer than max_record_bytes becomes a too_large fault
// covering the element, and splitting carries on after it.
//
// Cost: an element's end is found by scan_value_end (detail/value_scan.hpp:
// 64-byte bit masks, AVX2 or SSE2, no per-byte branches on the many quotes of
// a record); the bytes between elements go one by one through the splitter's
// state machine. Records wholly inside a chunk are views into the chunk; the
// one element straddling a chunk boundary is copied. Memory: at most
// max_record_bytes of buffered element.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/detail/split_common.hpp"
#include "core/detail/value_scan.hpp"
#include "core/record.hpp"

namespace salesflow::core {

enum class ArrayLayout { bare_array, wrapped };

class ArraySplitter {
 public:
  // `start_offset` is the stream offset of the first byte that will be fed.
  ArraySplitter(ArrayLayout layout, std::string wrapper_member, std::uint64_t start_offset,
                std::size_t max_record_bytes);

  void feed(std::string_view chunk, Emitter& out);
  // End of stream: reports a truncated array or the pending fault.
  void finish(Emitter& out);

 private:
  enum class State {
    expect_array_open,
    expect_first_element,  // after '[': an element or ']'
    expect_element,        // after ',': an element
    in_element,
    after_element,  // ',' or ']'
    expect_object_open,
    expect_first_key,  // after '{': a key or '}'
    expect_key,        // after ',': a key
    in_key,
    expect_colon,
    expect_member_value,
    in_member_value,  // a value being skipped
    after_member_value,
    trailing,  // after the end: whitespace only
    broken,    // the rest of the stream is one fault
  };
  enum class ValueKind { nested, string, bare };

  // Each returns the chunk index where processing continues.
  std::size_t step(std::string_view chunk, std::size_t pos, char c, Emitter& out);
  std::size_t start_value(std::string_view chunk, std::size_t pos, bool is_element, Emitter& out);
  std::size_t continue_value(std::string_view chunk, std::size_t pos, Emitter& out);
  std::size_t start_key(std::size_t pos);
  std::size_t continue_key(std::string_view chunk, std::size_t pos);
  std::size_t fail(std::string_view chunk, std::size_t pos, ReasonCode code, std::string message);
  void fail_at(std::uint64_t begin, ReasonCode code, std::string message);
  void close_array();
  void close_object();

  ArrayLayout layout_;
  std::string wrapper_member_;
  std::size_t max_record_bytes_;
  std::uint64_t start_offset_;
  std::uint64_t offset_;  // stream offset of the first byte of the current chunk
  std::string head_;      // the first bytes fed, for the excerpt of a shape fault
  State state_;

  // The value being scanned (an element, or a member value being skipped).
  ValueKind kind_ = ValueKind::bare;
  NestingState nesting_;
  std::uint64_t value_begin_ = 0;     // stream offset of its first byte
  bool value_began_earlier_ = false;  // began in an earlier chunk: its bytes are in buffer_
  bool oversize_ = false;             // outgrew max_record_bytes: buffer_ dropped
  std::string buffer_;
  std::string value_excerpt_;  // first bytes of an oversize element

  // The wrapper object.
  std::uint64_t object_begin_ = 0;
  bool wrapper_seen_ = false;
  bool key_escape_ = false;
  bool key_too_long_ = false;
  std::uint64_t key_begin_ = 0;
  std::string key_;
  bool key_matches_ = false;

  // The fault that ends the stream.
  std::uint64_t fault_begin_ = 0;
  ReasonCode fault_code_ = ReasonCode::malformed_json;
  std::string fault_message_;
  std::string fault_excerpt_;
  bool fault_excerpt_from_head_ = false;  // the fault began before the bytes that revealed it
};

}  // namespace salesflow::core
