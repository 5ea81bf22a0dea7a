#pragma once
// Checks one record against the completeness rules and, in the same single
// pass, encodes it as a DynamoDB item (DynamoDB JSON text).

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/record.hpp"
#include "core/rules.hpp"

namespace salesflow::core {

struct Verdict {
  bool valid = false;
  // Every problem found (up to Rules::max_reasons, then one summarising reason).
  std::vector<Reason> reasons;
  // Identity of the item's primary key for duplicate detection: the partition
  // key text, and the sort key text when configured, in an unambiguous
  // encoding. Empty when the record has no usable key.
  std::string key;
  std::string partition_key;  // the key attribute values as stored (S text or N text)
  std::string sort_key;
  // The item as DynamoDB JSON, {"OrderId":{"S":"..."},...}: only when valid.
  // A view into the validator's output buffer: copy it to keep it past the
  // next check().
  std::string_view item_json;
  // The item's size by DynamoDB's rules (names + values + container overheads),
  // key and metadata attributes included; 0 when the record is not an object.
  std::size_t item_size = 0;
};

// Holds simdjson's stage 1 and reusable buffers: one per thread.
//
// Cost of check(): one copy of the record into a padded buffer; simdjson's
// stage 1 over it (validates UTF-8, finds strings, indexes every structural
// byte; SIMD, ~7 GB/s); one pass over that index that checks the JSON grammar
// and writes the item JSON into a buffer sized up front (strings and names
// without a backslash are copied raw, not unescaped and re-escaped; numbers
// are copied as their exact text); a pass over the (few) rule paths. The item
// is not copied again: Verdict::item_json views the validator's buffer. No
// allocation once buffers have grown to the largest record, except for
// rejected records' reason strings. Regular expressions run only for fields
// that configure one. ~1 GB/s on 1 KB sales records (bench/README.md).
class RecordValidator {
 public:
  explicit RecordValidator(Rules rules);
  ~RecordValidator();
  RecordValidator(RecordValidator&&) noexcept;
  RecordValidator& operator=(RecordValidator&&) noexcept;

  // The verdict stays valid until the next call.
  const Verdict& check(const RawRecord& record, const Provenance& provenance);

  const Rules& rules() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace salesflow::core
