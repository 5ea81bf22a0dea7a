#pragma once
// Splits a JSON Lines stream into records, fed in chunks of any size.
//
// A record is one physical line ('\n'-terminated; the last may lack the '\n')
// with JSON whitespace (space, tab, CR) trimmed at both ends, so CRLF files
// give the same records as LF files. Lines that are empty after trimming are
// not records. Every other line is a record, whether or not it is valid JSON
// (validating it is the caller's job). A line longer than max_record_bytes
// (counting every byte but the '\n') that has content is not handed out: it
// becomes a FileFault (too_large) covering the line.
//
// Cost: one memchr per line over the bytes, plus a copy of the single record
// that straddles each chunk boundary. Records wholly inside a chunk are views
// into the chunk. Memory: at most max_record_bytes of buffered line.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/detail/split_common.hpp"
#include "core/record.hpp"

namespace salesflow::core {

class LineSplitter {
 public:
  // `start_offset` is the stream offset of the first byte that will be fed
  // (e.g. 3 after a UTF-8 byte order mark).
  LineSplitter(std::uint64_t start_offset, std::size_t max_record_bytes);

  void feed(std::string_view chunk, Emitter& out);
  // End of stream: hands out the last line if it lacks its '\n'.
  void finish(Emitter& out);

 private:
  void emit_line(std::string_view line, std::uint64_t offset, Emitter& out) const;
  void append_partial(std::string_view part, std::uint64_t offset);
  void complete_partial(Emitter& out);

  std::size_t max_record_bytes_;
  std::uint64_t offset_;    // stream offset of the next byte fed
  std::uint64_t line_ = 1;  // 1-based number of the line being read
  // The current line, when it began in an earlier chunk.
  bool has_partial_ = false;
  std::uint64_t partial_offset_ = 0;
  std::string partial_;
  // Set once the current line outgrew max_record_bytes: partial_ is dropped
  // and only its length, whether it has content, and an excerpt are kept.
  bool oversize_ = false;
  bool oversize_has_content_ = false;
  std::uint64_t oversize_bytes_ = 0;
  std::string oversize_excerpt_;
};

}  // namespace salesflow::core
