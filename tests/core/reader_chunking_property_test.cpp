// Properties of the readers: whatever the chunk boundaries, the same records
// and faults come out; well-formed inputs give back exactly the records they
// were made of; and nothing that is not whitespace or structure goes missing.

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "core/reader.hpp"
#include "reader_collect.hpp"

namespace salesflow::core {
namespace {

using testing::Collected;
using testing::gzip;
using testing::read_all;
using testing::read_cut;
using testing::uncovered;

// A JSON string literal holding random text full of the bytes splitters care about.
rc::Gen<std::string> json_string() {
  return rc::gen::map(rc::gen::container<std::vector<std::string>>(rc::gen::element<std::string>(
                          "a", "Z", "0", " ", "{", "}", "[", "]", ",", ":", "\\\"", "\\\\", "\\n",
                          "\\u00e9", "\xC3\xA9", "\xF0\x9F\x98\x80", "\\/")),
                      [](const std::vector<std::string>& parts) {
                        std::string out = "\"";
                        for (const auto& p : parts) out += p;
                        return out + "\"";
                      });
}

// A random JSON value without raw newlines (so it fits on one line).
rc::Gen<std::string> json_value(int depth) {
  if (depth <= 0) {
    return rc::gen::oneOf(
        json_string(), rc::gen::element<std::string>("1", "-2.5e3", "true", "null", "false", "0"));
  }
  return rc::gen::oneOf(
      json_string(),
      rc::gen::map(rc::gen::container<std::vector<std::string>>(json_value(depth - 1)),
                   [](const std::vector<std::string>& items) {
                     std::string out = "[";
                     for (std::size_t i = 0; i < items.size(); ++i) {
                       out += (i ? ", " : "") + items[i];
                     }
                     return out + "]";
                   }),
      rc::gen::map(rc::gen::container<std::vector<std::pair<std::string, std::string>>>(
                       rc::gen::pair(json_string(), json_value(depth - 1))),
                   [](const std::vector<std::pair<std::string, std::string>>& members) {
                     std::string out = "{";
                     for (std::size_t i = 0; i < members.size(); ++i) {
                       out += (i ? "," : "") + members[i].first + ":" + members[i].second;
                     }
                     return out + "}";
                   }));
}

// A record as the pipeline sees them: an object.
rc::Gen<std::string> record() {
  return rc::gen::map(json_value(2), [](const std::string& v) {
    return "{\"order-info\":" + v + ",\"contact-info\":{\"n\":1}}";
  });
}

struct Rendered {
  std::string bytes;
  std::vector<std::string> records;
};

Rendered render(const std::vector<std::string>& records, InputFormat format, bool bom, bool crlf) {
  Rendered out{bom ? "\xEF\xBB\xBF" : "", records};
  const std::string eol = crlf ? "\r\n" : "\n";
  if (format == InputFormat::concatenated) {
    // Each record over three lines, as a pretty-printer breaks it, and the
    // documents one after another with varying whitespace, or none.
    const std::string separators[] = {eol, eol + eol, " ", ""};
    for (std::size_t i = 0; i < records.size(); ++i) {
      const std::string& r = records[i];
      out.records[i] = "{" + eol + "  " + r.substr(1, r.size() - 2) + eol + "}";
      out.bytes += out.records[i] + separators[r.size() % 4];
    }
    return out;
  }
  if (format == InputFormat::json_lines) {
    for (const auto& r : records) out.bytes += r + eol + (r.size() % 3 == 0 ? " \t" + eol : "");
    return out;
  }
  out.bytes += format == InputFormat::wrapped ? "{\"meta\":{\"orders\":[0]}, \"orders\" : [" + eol
                                              : "[" + eol;
  for (std::size_t i = 0; i < records.size(); ++i) {
    out.bytes += (i ? "," + eol : "") + records[i];
  }
  out.bytes += eol + "]";
  if (format == InputFormat::wrapped) out.bytes += ", \"count\": [1,{\"x\":\"]\"}]}";
  out.bytes += eol;
  return out;
}

// Up to `most` random cut positions in [0, size], ascending.
std::vector<std::size_t> random_cuts(std::size_t size, int most = 64) {
  const auto count = static_cast<std::size_t>(*rc::gen::inRange(0, most + 1));
  auto cuts = *rc::gen::container<std::vector<std::size_t>>(
      count, rc::gen::inRange<std::size_t>(0, size + 1));
  std::sort(cuts.begin(), cuts.end());
  return cuts;
}

RC_GTEST_PROP(ReaderChunking, WellFormedInputsGiveTheirRecordsWhateverTheChunks, ()) {
  const auto records = *rc::gen::resize(24, rc::gen::container<std::vector<std::string>>(record()));
  const auto format = *rc::gen::element(InputFormat::json_lines, InputFormat::array,
                                        InputFormat::wrapped, InputFormat::concatenated);
  const bool bom = *rc::gen::arbitrary<bool>();
  const bool crlf = *rc::gen::arbitrary<bool>();
  const Rendered input = render(records, format, bom, crlf);
  const Collected whole = read_all(input.bytes);
  std::vector<std::string> texts;
  for (const auto& r : whole.records) {
    texts.push_back(r.text);
    RC_ASSERT(input.bytes.substr(r.offset, r.text.size()) == r.text);
  }
  RC_ASSERT(texts == input.records);
  RC_ASSERT(whole.faults.empty());
  // No documents at all is whitespace only, which is JSON Lines.
  RC_ASSERT(
      whole.format ==
      (format == InputFormat::concatenated && records.empty() ? InputFormat::json_lines : format));
  RC_ASSERT(read_cut(input.bytes, random_cuts(input.bytes.size())) == whole);
}

RC_GTEST_PROP(ReaderChunking, GzipWithMembersGivesTheSameRecordsWhateverTheChunks, ()) {
  const auto records = *rc::gen::resize(24, rc::gen::container<std::vector<std::string>>(record()));
  const auto format = *rc::gen::element(InputFormat::json_lines, InputFormat::array,
                                        InputFormat::wrapped, InputFormat::concatenated);
  const Rendered input = render(records, format, false, false);
  // Split the plain bytes into members at random places.
  std::string compressed;
  std::size_t from = 0;
  for (const std::size_t cut : random_cuts(input.bytes.size(), 6)) {
    compressed += gzip(std::string_view(input.bytes).substr(from, cut - from));
    from = cut;
  }
  compressed += gzip(std::string_view(input.bytes).substr(from));
  const Collected plain = read_all(input.bytes);
  RC_ASSERT(read_all(compressed) == plain);
  RC_ASSERT(read_cut(compressed, random_cuts(compressed.size())) == plain);
}

RC_GTEST_PROP(ReaderChunking, DamagedInputsAreChunkIndependentAndLoseNothing, ()) {
  const auto records = *rc::gen::resize(24, rc::gen::container<std::vector<std::string>>(record()));
  const auto format = *rc::gen::element(InputFormat::json_lines, InputFormat::array,
                                        InputFormat::wrapped, InputFormat::concatenated);
  std::string bytes = render(records, format, false, false).bytes;
  // Damage: insert, delete or overwrite a few bytes with structural characters.
  const auto edits = *rc::gen::inRange(1, 4);
  for (int i = 0; i < edits; ++i) {
    const auto at = *rc::gen::inRange<std::size_t>(0, bytes.size() + 1);
    const auto c = *rc::gen::element('{', '}', '[', ']', '"', '\\', ',', ':', 'x', '\n', '\0');
    switch (*rc::gen::inRange(0, 3)) {
      case 0:
        bytes.insert(at, 1, c);
        break;
      case 1:
        if (at < bytes.size()) bytes.erase(at, 1);
        break;
      default:
        if (at < bytes.size()) bytes[at] = c;
        break;
    }
  }
  ReaderOptions options;
  options.max_record_bytes = *rc::gen::element<std::size_t>(16, 64, 1024, 16 << 20);
  const Collected whole = read_all(bytes, options);
  RC_ASSERT(read_cut(bytes, random_cuts(bytes.size()), options) == whole);
  std::uint64_t last_offset = 0;
  for (std::size_t i = 0; i < whole.records.size(); ++i) {
    const auto& r = whole.records[i];
    RC_ASSERT(r.index == i);
    RC_ASSERT(i == 0 || r.offset > last_offset);
    RC_ASSERT(bytes.substr(r.offset, r.text.size()) == r.text);
    RC_ASSERT(r.text.size() <= options.max_record_bytes);
    last_offset = r.offset;
  }
  // Whatever is not a record or in a fault is structure of the format.
  const std::string rest = uncovered(bytes, whole);
  if (whole.format == InputFormat::json_lines || whole.format == InputFormat::concatenated) {
    RC_ASSERT(rest.empty());
  } else if (whole.format == InputFormat::array) {
    RC_ASSERT(rest.find_first_not_of("[],") == std::string::npos);
  }
}

}  // namespace
}  // namespace salesflow::core
