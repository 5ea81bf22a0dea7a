#pragma once
// The DynamoDB item of one record: the buffer the walk writes the record's
// members into, and what completes a valid record's item after the walk (key
// attributes, metadata attributes, the size checks).

#include <simdjson.h>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/detail/reason_list.hpp"
#include "core/detail/rule_paths.hpp"
#include "core/record.hpp"
#include "core/record_validator.hpp"
#include "core/rules.hpp"

namespace salesflow::core {

// Bytes of item JSON the walk may write per byte of record: the worst case is
// a one-digit number with its separator, `0,` -> `{"N":"0"},` (5x); a
// one-byte number alone costs its 8 bytes of wrapping, hence 9x plus a little.
inline constexpr std::size_t kItemBytesPerRecordByte = 9;
inline constexpr std::size_t kItemBytesSlack = 64;

// Copies `size` bytes of the padded record buffer in fixed-size 32-byte
// moves (no library call), reading up to 31 bytes into the record's padding
// and writing into the item buffer's slack (kItemBytesSlack). Returns the end.
inline char* copy_padded(char* out, const char* from, std::size_t size) {
  static_assert(kItemBytesSlack >= 32 && simdjson::SIMDJSON_PADDING >= 32);
  std::memcpy(out, from, 32);
  for (std::size_t done = 32; done < size; done += 32) std::memcpy(out + done, from + done, 32);
  return out + size;
}

// The item JSON written so far, through a cursor. Room is made up front for
// the worst case, so the writes themselves never check or grow.
class ItemBuffer {
 public:
  void clear() { cursor_ = bytes_.get(); }
  // Makes room for `more` bytes at the cursor, keeping what is written.
  void make_room(std::size_t more) {
    if (capacity_ - size() >= more) return;
    grow(more);
  }

  // The walk writes through a local copy of the cursor, then stores it back.
  char* cursor() const { return cursor_; }
  void set_cursor(char* cursor) { cursor_ = cursor; }

  void put(char c) { *cursor_++ = c; }
  void put(std::string_view text) {
    std::memcpy(cursor_, text.data(), text.size());
    cursor_ += text.size();
  }
  // From the padded record buffer (see copy_padded).
  void put_padded(const char* from, std::size_t size) {
    cursor_ = copy_padded(cursor_, from, size);
  }

  std::size_t size() const { return static_cast<std::size_t>(cursor_ - bytes_.get()); }
  std::string_view text() const { return {bytes_.get(), size()}; }

 private:
  static constexpr std::size_t kInitialBytes = 16 * 1024;
  void grow(std::size_t more);

  std::unique_ptr<char[]> bytes_ = std::make_unique_for_overwrite<char[]>(kInitialBytes);
  std::size_t capacity_ = kInitialBytes;
  char* cursor_ = bytes_.get();
};

// Completes the items of valid records: one per RecordValidator. Keeps the
// metadata attributes' text of the last object it completed an item of.
class ItemCompletion {
 public:
  explicit ItemCompletion(const Rules& rules);

  // After the walk wrote the record's members into `item` (after its `{`):
  // appends the key attributes (from what the walk saw at their source paths,
  // `sort` when the rules have a sort key), the metadata attributes and the
  // closing `}`; sets the verdict's keys and adds the attributes to its
  // item_size; adds a reason for a key or an item DynamoDB cannot hold.
  void complete(const Observation& partition, const Observation* sort, const RawRecord& record,
                const Provenance& provenance, ItemBuffer& item, Verdict& verdict,
                ReasonList& reasons);

 private:
  // The metadata attributes as item JSON around the record index's digits.
  struct MetadataText {
    Provenance provenance;     // what the text was built for
    std::string before_index;  // ,"_source":{"S":"s3://..."},...,"_record_index":{"N":"
    std::string after_index;   // "}[,"_ingested_at":{"S":"..."}]
    std::size_t size = 0;      // DynamoDB size of the attributes, less the index value's
  };

  const MetadataText& metadata_for(const Provenance& provenance);
  void append_key(const KeyAttribute& key, const std::string& prefix, const Observation& seen,
                  bool& first, ItemBuffer& item, Verdict& verdict) const;

  KeyAttribute partition_key_;
  std::optional<KeyAttribute> sort_key_;
  MetadataNames names_;
  std::string partition_prefix_;  // the key attributes' names and types as item JSON
  std::string sort_prefix_;
  std::optional<MetadataText> metadata_;  // built once per object
};

}  // namespace salesflow::core
