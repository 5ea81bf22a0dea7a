#pragma once
// The correction loop's texts (docs/correction.md): what salesflow reads of a
// DLQ envelope, the export line a person edits, and the replay line read back.
//
// An export line is the full envelope (docs/dlq-envelope.md) plus a member
// `value`: the raw record as a JSON value when the raw text parses, so that a
// person (or jq) fixes a value and not an escaped string. A replay line is an
// export line after the fix, or anything with an `id` and one of `value` or
// `raw`: `value` wins when both are present.
//
// Cost: one simdjson parse of the envelope or line; off the ingestion path.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <tl/expected.hpp>
#include <vector>

#include "core/record.hpp"
#include "core/record_validator.hpp"

namespace salesflow::core {

// One reason as an envelope states it: the code as text, so that a code added
// by a later release still reads.
struct EnvelopeReason {
  std::string code;
  std::string path;
  std::string message;
};

struct S3Location {
  std::string bucket;
  std::string key;
};

// What salesflow needs of one envelope: match it to a correction by `id`,
// rebuild the record's provenance, filter and show it, find its offloaded text.
struct EnvelopeSummary {
  std::string id;
  std::string kind;  // "record" or "file_fault"
  // bucket, key, etag, version_id of the source object; ingested_at is the
  // envelope's timestamp (when the record was rejected, in the same run that
  // ingested its object).
  Provenance provenance;
  std::uint64_t index = 0;  // kind "record": the record's place in the object
  std::uint64_t offset = 0;
  std::uint64_t line = 0;
  std::uint64_t fault_begin = 0;  // kind "file_fault": the byte range
  std::uint64_t fault_end = 0;
  std::vector<EnvelopeReason> reasons;
  std::optional<std::string> raw;    // the record text, when the envelope carries it as `raw`
  bool raw_is_base64 = false;        // the text was not UTF-8: `raw_base64` instead
  std::optional<S3Location> raw_s3;  // offloaded: the full envelope is this S3 object

  [[nodiscard]] std::string source_url() const;  // "s3://bucket/key"
  // Whether `code` is one of the reasons' codes.
  [[nodiscard]] bool has_reason(std::string_view code) const;
};

// Reads an envelope (a DLQ message body or an offloaded object). Fails, with
// one line saying why, on anything that is not a salesflow.dlq/1 envelope with
// an id and a source.
[[nodiscard]] tl::expected<EnvelopeSummary, std::string> read_envelope(std::string_view body);

// Makes export lines; holds a validator, so one per thread.
class EnvelopeExporter {
 public:
  EnvelopeExporter();

  // The export line of a full envelope (never a reduced one: its raw text is
  // in S3): the envelope's members and, when its `raw` text is JSON as the
  // validator reads it (integers of any length included), a last member
  // `value` holding it with the white space between tokens removed (strings
  // and numbers are kept byte for byte), so the line is one line even for a
  // record that was pretty-printed. Fails on text that is not a JSON object.
  [[nodiscard]] tl::expected<std::string, std::string> line(std::string_view envelope);

 private:
  RecordValidator validator_;
};

// One corrected record read back from a replay file.
struct Correction {
  std::string id;           // the envelope id: which DLQ message it settles
  std::string record;       // the corrected record's text, validated as ingestion would
  bool from_value = false;  // `record` is the `value` member (else the `raw` string)
  std::uint64_t line = 0;   // 1-based line in the replay file
  // The envelope the line carries, when it is a whole export line: a dry run
  // shows the item with its source's metadata. A replay takes the provenance
  // from the DLQ's own message, never from the file.
  std::optional<EnvelopeSummary> envelope;
};

// Parses one line of a replay file. Errors name what is wrong ("no `id`",
// "neither `value` nor `raw`", ...); `line` is stored in the result.
[[nodiscard]] tl::expected<Correction, std::string> parse_correction(std::string_view text,
                                                                     std::uint64_t line);

}  // namespace salesflow::core
