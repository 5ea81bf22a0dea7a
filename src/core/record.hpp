#pragma once
// The values that flow through the core: where an object's records come from,
// a record as it appeared in the object, the reasons a record is rejected, and
// faults that concern a byte range of the file rather than one record.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace salesflow::core {

// Where an object's records come from: it owns the S3 object's identity
// (bucket, key, ETag, version id) and the time the object was ingested, and
// nothing else. Every item's metadata attributes and every DLQ envelope of the
// object are made from it. `ingested_at` is ISO-8601 UTC, chosen by the caller
// (core has no clock). `corrected_at` is set only when a person's correction
// of a rejected record is replayed (`salesflow dlq replay`): the time of the
// replay, while `ingested_at` stays the time the object was first ingested.
struct Provenance {
  std::string bucket;
  std::string key;
  std::string etag;
  std::string version_id;  // empty when the bucket is not versioned
  std::string ingested_at;
  std::string corrected_at;  // empty except for replayed corrections
  bool operator==(const Provenance&) const = default;
};

// One record exactly as it appeared in the (decompressed) object. `text` is a
// view into the reader's buffer: valid only during the callback that gets it.
struct RawRecord {
  std::string_view text;
  std::uint64_t index = 0;   // 0-based position among the object's records
  std::uint64_t offset = 0;  // byte offset of the first byte of `text` in the decompressed stream
  std::uint64_t line = 0;    // 1-based line where it starts (JSON Lines, concatenated); else 0
};

enum class ReasonCode {
  missing,
  wrong_type,
  empty,
  invalid_format,
  malformed_json,
  invalid_number,
  too_large,
  duplicate_member,
  duplicate_key,
};

std::string_view to_string(ReasonCode code);

struct Reason {
  ReasonCode code;
  std::string path;  // JSON-pointer-like path of the offending member, e.g. "/order-info/OrderId"
  std::string message;  // one human sentence
  bool operator==(const Reason&) const = default;
};

// A part of the object that could not be split into records: an array that
// breaks part-way, a file that is not JSON, a wrong top-level shape, bad gzip.
// [begin, end) is the byte range in the decompressed stream (end may be the
// stream's end); `records_before` is how many records preceded it.
struct FileFault {
  std::uint64_t begin = 0;
  std::uint64_t end = 0;
  std::uint64_t records_before = 0;
  Reason reason;
  std::string excerpt;  // the first bytes of the unparseable range, for a person to look at
};

}  // namespace salesflow::core
