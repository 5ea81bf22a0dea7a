#include "core/reader.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <utility>

#include "core/detail/emitter.hpp"

namespace salesflow::core {

namespace {

constexpr std::string_view kByteOrderMark = "\xEF\xBB\xBF";

enum class Verdict { undecided, json_lines, array, wrapped, concatenated, not_json };

struct Decision {
  Verdict verdict = Verdict::undecided;
  std::size_t bom = 0;      // length of the byte order mark
  std::size_t content = 0;  // index of the first non-whitespace byte
};

// Applies the rule for a stream starting with '{' (see reader.hpp) to
// view[begin, ...). `final`: no more bytes will be examined; `whole`: the
// view is the whole stream and shorter than the examined limit (a stream of
// exactly the limit is read as one whose first value does not end within it,
// whatever the chunks, since fed in pieces it is only seen whole at its end).
Verdict examine_object(std::string_view view, std::size_t begin, bool final, bool whole,
                       std::string_view wrapper_member) {
  std::uint64_t depth = 0;
  bool in_string = false;
  bool escape = false;
  bool expect_key = false;
  bool reading_key = false;
  std::size_t key_begin = 0;
  bool key_matches = false;
  bool check_value = false;  // the next non-space byte is the wrapper member's value
  bool has_wrapper_array = false;
  std::size_t pos = begin;
  bool closed = false;
  bool spans_lines = false;
  for (; pos < view.size(); ++pos) {
    const char c = view[pos];
    if (in_string) {
      if (escape) {
        escape = false;
      } else if (c == '\\') {
        escape = true;
      } else if (c == '"') {
        in_string = false;
        if (reading_key) {
          reading_key = false;
          key_matches = json_string_equals(view.substr(key_begin, pos - key_begin), wrapper_member);
        }
      }
      continue;
    }
    if (check_value && !is_json_space(c)) {
      check_value = false;
      has_wrapper_array = has_wrapper_array || c == '[';
    }
    spans_lines = spans_lines || c == '\n';
    if (c == '"') {
      in_string = true;
      if (depth == 1 && expect_key) {
        reading_key = true;
        expect_key = false;
        key_begin = pos + 1;
      }
    } else if (c == '{' || c == '[') {
      if (++depth == 1) expect_key = true;
    } else if (c == '}' || c == ']') {
      if (--depth == 0) {
        closed = true;
        break;
      }
    } else if (depth == 1 && c == ',') {
      expect_key = true;
    } else if (depth == 1 && c == ':') {
      check_value = key_matches;
      key_matches = false;
    }
  }
  const Verdict by_member = has_wrapper_array ? Verdict::wrapped : Verdict::json_lines;
  // A first value over several lines means the first line is no JSON Lines record.
  const Verdict multi_line = has_wrapper_array ? Verdict::wrapped : Verdict::concatenated;
  if (!closed) {
    if (!final) return Verdict::undecided;
    return spans_lines && !whole ? multi_line : by_member;
  }
  if (spans_lines) return multi_line;
  bool newline = false;
  for (++pos; pos < view.size() && is_json_space(view[pos]); ++pos) {
    newline = newline || view[pos] == '\n';
  }
  if (pos < view.size()) {
    if (newline) return Verdict::json_lines;
    return !has_wrapper_array && view[pos] == '{' ? Verdict::concatenated : by_member;
  }
  return final ? by_member : Verdict::undecided;
}

// Decides the format from the stream's first bytes `data`; `at_end`: that is
// the whole stream.
Decision decide(std::string_view data, bool at_end, const ReaderOptions& options) {
  Decision decision;
  if (!at_end && data.size() < kByteOrderMark.size() && kByteOrderMark.starts_with(data)) {
    return decision;
  }
  decision.bom = data.starts_with(kByteOrderMark) ? kByteOrderMark.size() : 0;
  decision.content = decision.bom;
  switch (options.format) {
    case InputFormat::json_lines:
      decision.verdict = Verdict::json_lines;
      return decision;
    case InputFormat::array:
      decision.verdict = Verdict::array;
      return decision;
    case InputFormat::wrapped:
      decision.verdict = Verdict::wrapped;
      return decision;
    case InputFormat::concatenated:
      decision.verdict = Verdict::concatenated;
      return decision;
    case InputFormat::automatic:
      break;
  }
  const std::size_t examined = decision.bom + options.max_record_bytes;
  const bool final = at_end || data.size() >= examined;
  const std::string_view view = data.substr(0, examined);
  std::size_t pos = decision.bom;
  while (pos < view.size() && is_json_space(view[pos])) ++pos;
  decision.content = pos;
  if (pos == view.size()) {
    decision.verdict = final ? Verdict::json_lines : Verdict::undecided;
  } else if (view[pos] == '[') {
    decision.verdict = Verdict::array;
  } else if (view[pos] == '{') {
    decision.verdict =
        examine_object(view, pos, final, at_end && data.size() < examined, options.wrapper_member);
  } else if (may_start_json_scalar(view[pos])) {
    decision.verdict = Verdict::json_lines;
  } else {
    decision.verdict = Verdict::not_json;
  }
  return decision;
}

}  // namespace

std::string_view to_string(InputFormat format) {
  switch (format) {
    case InputFormat::automatic:
      return "auto";
    case InputFormat::json_lines:
      return "jsonl";
    case InputFormat::array:
      return "array";
    case InputFormat::wrapped:
      return "wrapped";
    case InputFormat::concatenated:
      return "concatenated";
  }
  return "auto";
}

std::optional<InputFormat> parse_input_format(std::string_view name) {
  for (const InputFormat format :
       {InputFormat::automatic, InputFormat::json_lines, InputFormat::array, InputFormat::wrapped,
        InputFormat::concatenated}) {
    if (to_string(format) == name) return format;
  }
  return std::nullopt;
}

// Routes the inflater's output into the reader.
class RecordReader::DecompressedSink final : public ByteSink {
 public:
  DecompressedSink(RecordReader& reader, Emitter& out) : reader_(reader), out_(out) {}
  void on_bytes(std::string_view bytes) override { reader_.on_decompressed(bytes, out_); }

 private:
  RecordReader& reader_;
  Emitter& out_;
};

RecordReader::RecordReader(ReaderOptions options) : options_(std::move(options)) {}

void RecordReader::feed(std::string_view raw_chunk, RecordHandler& handler) {
  if (done_ || raw_chunk.empty()) return;
  Emitter out(handler, records_);
  if (compression_ == Compression::undecided) {
    if (magic_.empty() && raw_chunk.size() < 2) {
      magic_.assign(raw_chunk);
      return;
    }
    const std::string prefix = magic_ + std::string(raw_chunk.substr(0, 2));
    compression_ = has_gzip_magic(prefix) ? Compression::gzip : Compression::none;
    if (compression_ == Compression::gzip) inflater_.emplace();
    if (!magic_.empty()) {
      const std::string held = std::exchange(magic_, {});
      feed_raw(held, out);
    }
  }
  feed_raw(raw_chunk, out);
}

void RecordReader::feed_raw(std::string_view raw, Emitter& out) {
  if (done_) return;
  if (!inflater_) {
    on_decompressed(raw, out);
    return;
  }
  DecompressedSink sink(*this, out);
  if (auto fed = inflater_->feed(raw, sink); !fed) {
    fail_gzip(fed.error(), out);
  }
}

void RecordReader::fail_gzip(const GzipError& error, Emitter& out) {
  finish_splitter(out);
  out.fault(error.decompressed_offset, error.decompressed_offset, ReasonCode::invalid_format,
            fmt::format("{} (at compressed byte {}, decompressed byte {})", error.message,
                        error.compressed_offset, error.decompressed_offset),
            {});
  done_ = true;
}

void RecordReader::finish(RecordHandler& handler) {
  if (done_) return;
  Emitter out(handler, records_);
  if (compression_ == Compression::undecided) {
    compression_ = Compression::none;
    const std::string held = std::exchange(magic_, {});
    on_decompressed(held, out);
  }
  if (inflater_) {
    if (auto finished = inflater_->finish(); !finished) {
      fail_gzip(finished.error(), out);
      return;
    }
  }
  finish_splitter(out);
  done_ = true;
}

void RecordReader::on_decompressed(std::string_view bytes, Emitter& out) {
  decompressed_ += bytes.size();
  if (!std::holds_alternative<std::monostate>(splitter_)) {
    feed_splitter(bytes, out);
    return;
  }
  if (undecided_.empty()) {
    // The common case: the first chunk decides, and is split in place.
    if (try_start(bytes, false)) {
      feed_splitter(bytes.substr(skip_), out);
      return;
    }
    undecided_.assign(bytes);
    next_decide_at_ = std::max<std::size_t>(2 * undecided_.size(), 64);
    return;
  }
  undecided_.append(bytes);
  // Deciding rescans the held bytes, so try again only when they have doubled
  // (or reached the most that is ever examined).
  if (undecided_.size() < next_decide_at_ &&
      undecided_.size() < options_.max_record_bytes + kByteOrderMark.size()) {
    return;
  }
  if (try_start(undecided_, false)) {
    const std::string held = std::exchange(undecided_, {});
    feed_splitter(std::string_view(held).substr(skip_), out);
    return;
  }
  next_decide_at_ = 2 * undecided_.size();
}

bool RecordReader::try_start(std::string_view prefix, bool at_end) {
  const Decision decision = decide(prefix, at_end, options_);
  skip_ = decision.bom;
  switch (decision.verdict) {
    case Verdict::undecided:
      return false;
    case Verdict::json_lines:
      detected_ = InputFormat::json_lines;
      splitter_.emplace<LineSplitter>(decision.bom, options_.max_record_bytes);
      return true;
    case Verdict::array:
      detected_ = InputFormat::array;
      splitter_.emplace<ArraySplitter>(ArrayLayout::bare_array, options_.wrapper_member,
                                       decision.bom, options_.max_record_bytes);
      return true;
    case Verdict::wrapped:
      detected_ = InputFormat::wrapped;
      splitter_.emplace<ArraySplitter>(ArrayLayout::wrapped, options_.wrapper_member, decision.bom,
                                       options_.max_record_bytes);
      return true;
    case Verdict::concatenated:
      detected_ = InputFormat::concatenated;
      splitter_.emplace<ConcatSplitter>(decision.bom, options_.max_record_bytes);
      return true;
    case Verdict::not_json:
      splitter_.emplace<NotJson>(
          NotJson{decision.content,
                  decision.bom,
                  {},
                  "not JSON: the content starts with neither '{', '[' nor a JSON value"});
      return true;
  }
  return false;
}

void RecordReader::feed_splitter(std::string_view bytes, Emitter& out) {
  if (auto* lines = std::get_if<LineSplitter>(&splitter_)) {
    lines->feed(bytes, out);
  } else if (auto* array = std::get_if<ArraySplitter>(&splitter_)) {
    array->feed(bytes, out);
  } else if (auto* concat = std::get_if<ConcatSplitter>(&splitter_)) {
    concat->feed(bytes, out);
  } else if (auto* not_json = std::get_if<NotJson>(&splitter_)) {
    const std::uint64_t end = not_json->next + bytes.size();
    if (end > not_json->begin) {
      const std::size_t from = not_json->next >= not_json->begin
                                   ? 0
                                   : static_cast<std::size_t>(not_json->begin - not_json->next);
      append_excerpt(not_json->excerpt, bytes.substr(from));
    }
    not_json->next = end;
  }
}

void RecordReader::finish_splitter(Emitter& out) {
  if (std::holds_alternative<std::monostate>(splitter_)) {
    try_start(undecided_, true);
    const std::string held = std::exchange(undecided_, {});
    feed_splitter(std::string_view(held).substr(skip_), out);
  }
  if (auto* lines = std::get_if<LineSplitter>(&splitter_)) {
    lines->finish(out);
  } else if (auto* array = std::get_if<ArraySplitter>(&splitter_)) {
    array->finish(out);
  } else if (auto* concat = std::get_if<ConcatSplitter>(&splitter_)) {
    concat->finish(out);
  } else if (auto* not_json = std::get_if<NotJson>(&splitter_)) {
    out.fault(not_json->begin, not_json->next, ReasonCode::invalid_format, not_json->why,
              not_json->excerpt);
  }
}

}  // namespace salesflow::core
