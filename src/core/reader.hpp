#pragma once
// RecordReader: turns the bytes of one sales-data object, fed in chunks, into
// records and file-level faults. Push-based, bounded memory, no I/O.
//
//   RecordReader reader;                       // one per object; not thread-safe
//   while (auto chunk = next_chunk()) reader.feed(*chunk, handler);
//   reader.finish(handler);
//
// Compression: if the object's first two bytes are 1f 8b it is gzip and is
// decompressed while streaming (isa-l; concatenated members allowed). All
// offsets are in the decompressed stream. A corrupt or truncated gzip stream
// ends the object: the records decoded before the break are handed out (the
// splitter is finished as if the stream ended there), then one FileFault
// (invalid_format) whose range is empty and starts at the decompressed offset
// of the break.
//
// Format (ReaderOptions::format == automatic) is decided from content only,
// never from the object's name. After an optional UTF-8 byte order mark and
// JSON whitespace, the first byte decides:
//   - none (empty or whitespace-only stream): JSON Lines; no records, no faults.
//   - '[': a top-level array (ArraySplitter, bare_array).
//   - '{': the first top-level value V (scanned with string/escape tracking and
//     one nesting depth for [] and {}) is examined; W = "V has a member whose
//     unescaped name is options.wrapper_member at V's top level and whose value
//     starts with '['", M = "V spans several lines" (a '\n' outside strings
//     before V ends, or within the examined bytes). Then:
//       * V ends and M (its first line is not a whole JSON value, so this is
//         not JSON Lines): wrapped if W, else concatenated, whatever follows
//         V. A pretty-printed record, alone or followed by more (`jq . file`),
//         is concatenated.
//       * V ends and the next non-whitespace byte is on a later line: JSON Lines.
//       * V ends and is followed on the same line by '{' and not W
//         (`{"a":1}{"b":2}`): concatenated.
//       * otherwise (V is followed by nothing but whitespace, or by other bytes
//         on the same line, or V does not end within max_record_bytes, or the
//         stream ends inside V): wrapped if W, else JSON Lines. Except: M, V
//         does not end within max_record_bytes and the stream is at least
//         that long, not W: concatenated (the first document is oversize).
//     Only the first max_record_bytes of the stream are examined, so deciding
//     buffers at most that much (plus one chunk). Consequences: `{"foo":1}` is
//     JSON Lines with one record (which the validator rejects); a JSON Lines
//     object whose single line is `{"orders":[...]}` is read as wrapped; a
//     JSON Lines file gives the same records as it would as concatenated; a
//     stream whose first multi-line document never closes is JSON Lines (force
//     `concatenated` to have it resynchronised; see split_concat.hpp).
//   - '"', '-', a digit, 't', 'f' or 'n' (a JSON scalar could start here): JSON
//     Lines; each line is one record (a top-level `42` is a record the validator
//     rejects as the wrong type).
//   - anything else: not JSON at all. One FileFault (invalid_format) covering
//     [first non-whitespace byte, end of stream), and no records.
// The byte order mark is skipped: offsets still count it, records never hold it.
//
// See split_lines.hpp, split_array.hpp and split_concat.hpp for how each
// format is split, and how malformed or oversize content becomes faults. Together, records and
// faults cover every byte of the stream that is not whitespace or structure
// (brackets, commas, the wrapper object's other members).
//
// Cost: non-gzip input is split in place: records inside a chunk are views
// into the caller's chunk, not copies. Memory: max_record_bytes of buffered
// record (plus, while the format is undecided, up to max_record_bytes and one
// chunk), plus 256 KiB and isa-l's state for gzip; never proportional to the
// object's size.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "core/detail/gzip_inflater.hpp"
#include "core/detail/split_array.hpp"
#include "core/detail/split_common.hpp"
#include "core/detail/split_concat.hpp"
#include "core/detail/split_lines.hpp"
#include "core/record.hpp"

namespace salesflow::core {

// Receives the records and faults of one object, in stream order. Both
// callbacks run synchronously inside RecordReader::feed/finish; the views in a
// RawRecord are valid only until the callback returns (copy what you keep).
class RecordHandler {
 public:
  virtual ~RecordHandler() = default;
  virtual void on_record(const RawRecord& record) = 0;
  virtual void on_fault(const FileFault& fault) = 0;
};

enum class InputFormat { automatic, json_lines, array, wrapped, concatenated };

std::string_view to_string(InputFormat format);
// Parses "auto", "jsonl", "array", "wrapped" or "concatenated".
[[nodiscard]] std::optional<InputFormat> parse_input_format(std::string_view name);

struct ReaderOptions {
  InputFormat format = InputFormat::automatic;           // automatic, or force one format
  std::string wrapper_member = "orders";                 // the array member of a wrapper object
  std::size_t max_record_bytes = std::size_t{16} << 20;  // longer records become faults
};

class RecordReader {
 public:
  explicit RecordReader(ReaderOptions options = {});

  // `raw_chunk` is the next piece of the object as stored (gzip or not), of any
  // size, including empty. Records and faults it completes are handed to
  // `handler` before feed returns.
  void feed(std::string_view raw_chunk, RecordHandler& handler);
  // End of the object: hands out the last record, reports truncation. Call
  // once; feed and finish do nothing after it.
  void finish(RecordHandler& handler);

  // The format in use: `automatic` until decided (at the latest by finish),
  // and for a stream that is not JSON at all.
  InputFormat detected_format() const { return detected_; }
  bool is_gzip() const { return compression_ == Compression::gzip; }
  std::uint64_t decompressed_bytes() const { return decompressed_; }
  std::uint64_t records() const { return records_; }

 private:
  enum class Compression { undecided, none, gzip };
  // Consumes a stream that is not JSON: one fault at the end.
  struct NotJson {
    std::uint64_t begin = 0;  // offset of the first non-whitespace byte
    std::uint64_t next = 0;   // offset of the next byte fed
    std::string excerpt;
    std::string why;  // the fault's message
  };
  using Splitter =
      std::variant<std::monostate, LineSplitter, ArraySplitter, ConcatSplitter, NotJson>;
  class DecompressedSink;

  void feed_raw(std::string_view raw, Emitter& out);
  void fail_gzip(const GzipError& error, Emitter& out);
  void on_decompressed(std::string_view bytes, Emitter& out);
  bool try_start(std::string_view prefix, bool at_end);
  void feed_splitter(std::string_view bytes, Emitter& out);
  void finish_splitter(Emitter& out);

  ReaderOptions options_;
  Compression compression_ = Compression::undecided;
  std::string magic_;  // the first raw byte while compression is undecided
  std::optional<GzipInflater> inflater_;
  bool done_ = false;

  InputFormat detected_ = InputFormat::automatic;
  std::string undecided_;            // decompressed bytes held while the format is undecided
  std::size_t next_decide_at_ = 64;  // size of undecided_ at which to try again
  std::size_t skip_ = 0;             // bytes of the held prefix not fed (the byte order mark)
  Splitter splitter_;
  std::uint64_t decompressed_ = 0;
  std::uint64_t records_ = 0;
};

}  // namespace salesflow::core
