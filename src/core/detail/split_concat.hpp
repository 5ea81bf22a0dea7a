#pragma once
// Splits a stream of concatenated JSON documents into records, fed in chunks
// of any size: what `jq . file` writes (one pretty-printed document after
// another), compact documents one per line, or documents with no whitespace
// between them at all.
//
// A document is one top-level JSON value; every document is a record, whatever
// its type (`{...}`, `[...]`, a string, a number, true/false/null and near
// misses of them, which the validator then rejects). A record's text runs from
// the document's first to its last byte; the whitespace between documents
// belongs to none. `line` is the 1-based line the document starts on.
// Documents are delimited by the byte scanner of detail/value_scan.hpp (strings,
// escapes and one nesting depth for `[]{}`); the inside of a document is not
// validated (`{"a":]` balances and is a record the validator rejects).
//
// Damage and resynchronisation. A `{` that is the first byte of a line (right
// after '\n', not indented) starts a document, because pretty-printers indent
// everything nested (jq: two spaces) and a raw line break cannot be inside a
// JSON string. So:
//   - a document still open when a line starts with `{` (truncated, an
//     unbalanced bracket, an unterminated string) is damaged: its bytes
//     [its first byte, that '{') become one FileFault (malformed_json), and
//     reading resumes with the document on that line;
//   - bytes between documents that cannot start a JSON value (`}`, `,`, `x`,
//     control bytes, ...) are garbage: [the first of them, the next '{' that
//     starts a line) becomes one FileFault (malformed_json), and reading
//     resumes there;
//   - a document open at the end of the stream, or garbage running to it, is
//     a FileFault up to the end of the stream.
// Records before and after the damage are handed out as usual. Consequence: a
// pretty-printer that does not indent nested objects (a nested `{` at the
// start of a line, e.g. Python's json.dumps(indent=0)) has its documents cut
// there; indent by at least one space, or write compact documents.
//
// A document longer than max_record_bytes is not handed out: it becomes a
// FileFault (too_large) covering the document, and splitting carries on after
// it. Memory: at most max_record_bytes of buffered document.
//
// Cost: the document's end is found by scan_value_end (64-byte bit masks),
// the next line-initial '{' by memchr over the '{' bytes, and line numbers
// by a 16-byte newline count; records wholly inside a chunk are views into
// the chunk, the one straddling a chunk boundary is copied.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/detail/split_common.hpp"
#include "core/detail/value_scan.hpp"
#include "core/record.hpp"

namespace salesflow::core {

class ConcatSplitter {
 public:
  // `start_offset` is the stream offset of the first byte that will be fed.
  ConcatSplitter(std::uint64_t start_offset, std::size_t max_record_bytes);

  void feed(std::string_view chunk, Emitter& out);
  // End of stream: hands out a last bare scalar, reports an open document or
  // trailing garbage.
  void finish(Emitter& out);

 private:
  enum class State { between, in_document, in_garbage };

  // Each returns the chunk index where processing continues.
  std::size_t start_document(std::string_view chunk, std::size_t pos, Emitter& out);
  std::size_t continue_document(std::string_view chunk, std::size_t pos, Emitter& out);
  std::size_t continue_garbage(std::string_view chunk, std::size_t pos, Emitter& out);
  // Hands out the document that ends at stream offset `end`; `tail` is its
  // part in the current chunk.
  void complete_document(std::string_view tail, std::uint64_t end, Emitter& out);
  // Keeps the part of an open document that is in the current chunk.
  void hold_document(std::string_view part, std::uint64_t end);
  [[nodiscard]] std::string document_excerpt(std::string_view tail) const;
  void reset_document();
  // The smallest chunk index >= from of a '{' that starts a line, or the
  // chunk's size.
  std::size_t next_line_start_brace(std::string_view chunk, std::size_t from);
  // The line of chunk[pos]; positions asked for never decrease within a chunk.
  std::uint64_t line_at(std::string_view chunk, std::size_t pos);

  std::size_t max_record_bytes_;
  std::uint64_t offset_;  // stream offset of the first byte of the current chunk
  State state_ = State::between;

  // Line numbers: line_ is the line of chunk[lines_counted_].
  std::uint64_t line_ = 1;
  std::size_t lines_counted_ = 0;
  bool chunk_starts_line_ = true;  // the byte before the current chunk is '\n' (or none)
  // The last search for a line-initial '{' in the current chunk.
  bool searched_ = false;
  std::size_t searched_from_ = 0;
  std::size_t found_ = 0;

  // The document being read.
  bool bare_ = false;  // a bare scalar: ends at the first byte that is not is_bare_byte
  NestingState nesting_;
  std::uint64_t document_begin_ = 0;  // stream offset of its first byte
  std::uint64_t document_line_ = 0;
  std::size_t document_index_ = 0;  // chunk index of its first byte, if it began in this chunk
  bool began_earlier_ = false;      // began in an earlier chunk: its bytes are in buffer_
  bool oversize_ = false;           // outgrew max_record_bytes: buffer_ dropped
  std::string buffer_;
  std::string excerpt_;  // first bytes of an oversize document, or of garbage

  std::uint64_t garbage_begin_ = 0;
  std::uint64_t garbage_line_ = 0;
};

}  // namespace salesflow::core
