#include "core/detail/item_completion.hpp"

#include <fmt/format.h>

#include <charconv>
#include <utility>

#include "base/json_string.hpp"
#include "core/detail/number.hpp"
#include "core/item_json.hpp"

namespace salesflow::core {
namespace {

// The key's identity for duplicate detection: length-prefixed, so that no two
// (partition, sort) pairs encode alike.
void append_key_encoding(std::string& out, std::string_view text) {
  append_decimal(out, text.size());
  out.push_back(':');
  out.append(text);
}

// `"OrderId":{"S":`: the key attribute's name and type as item JSON.
std::string key_prefix(const KeyAttribute& key) {
  std::string prefix;
  base::append_json_string(prefix, key.attribute);
  prefix.append(key.type == 'N' ? ":{\"N\":" : ":{\"S\":");
  return prefix;
}

}  // namespace

void ItemBuffer::grow(std::size_t more) {
  const std::size_t used = size();
  const std::size_t capacity = std::max(used + more, capacity_ * 2);
  auto grown = std::make_unique_for_overwrite<char[]>(capacity);
  std::memcpy(grown.get(), bytes_.get(), used);
  bytes_ = std::move(grown);
  capacity_ = capacity;
  cursor_ = bytes_.get() + used;
}

ItemCompletion::ItemCompletion(const Rules& rules)
    : partition_key_(rules.partition_key),
      sort_key_(rules.sort_key),
      names_(rules.metadata),
      partition_prefix_(key_prefix(rules.partition_key)),
      sort_prefix_(rules.sort_key ? key_prefix(*rules.sort_key) : std::string()) {}

// Appends a key attribute: `prefix` is its name and type; the value is the
// observed text, copied as it stands when it is raw (it then needs no escaping).
void ItemCompletion::append_key(const KeyAttribute& key, const std::string& prefix,
                                const Observation& seen, bool& first, ItemBuffer& item,
                                Verdict& verdict) const {
  const std::string_view value = seen.text;
  item.make_room(1 + prefix.size() + base::json_string_bound(value.size()) + 1 + kItemBytesSlack);
  if (!first) item.put(',');
  first = false;
  item.put(prefix);
  if (seen.raw && seen.type == JsonType::string) {
    item.put_padded(value.data() - 1, value.size() + 2);  // with its quotes
  } else if (seen.raw) {
    item.put('"');
    item.put_padded(value.data(), value.size());
    item.put('"');
  } else {
    item.set_cursor(base::write_json_string(item.cursor(), value));
  }
  item.put('}');
  verdict.item_size +=
      key.attribute.size() + (key.type == 'N' ? analyze_number(value).dynamodb_size : value.size());
}

// The metadata attributes depend only on the rules and the object: built once
// per object.
const ItemCompletion::MetadataText& ItemCompletion::metadata_for(const Provenance& provenance) {
  if (metadata_ && metadata_->provenance == provenance) return *metadata_;
  MetadataText text;
  text.provenance = provenance;
  const auto add = [&](std::string& out, std::string_view name, std::string_view value) {
    out.push_back(',');
    base::append_json_string(out, name);
    out.append(":{\"S\":");
    base::append_json_string(out, value);
    out.push_back('}');
    text.size += name.size() + value.size();
  };
  const std::string source = fmt::format("s3://{}/{}", provenance.bucket, provenance.key);
  add(text.before_index, names_.source, source);
  if (!provenance.etag.empty()) add(text.before_index, names_.etag, provenance.etag);
  if (!provenance.version_id.empty())
    add(text.before_index, names_.version_id, provenance.version_id);
  text.before_index.push_back(',');
  base::append_json_string(text.before_index, names_.record_index);
  text.before_index.append(":{\"N\":\"");
  text.size += names_.record_index.size();
  text.after_index.append("\"}");
  if (!provenance.ingested_at.empty())
    add(text.after_index, names_.ingested_at, provenance.ingested_at);
  if (!provenance.corrected_at.empty())
    add(text.after_index, names_.corrected_at, provenance.corrected_at);
  metadata_ = std::move(text);
  return *metadata_;
}

void ItemCompletion::complete(const Observation& partition, const Observation* sort,
                              const RawRecord& record, const Provenance& provenance,
                              ItemBuffer& item, Verdict& verdict, ReasonList& reasons) {
  bool first = item.size() == 1;  // nothing but the item's `{` yet
  verdict.partition_key.assign(partition.text);
  append_key_encoding(verdict.key, partition.text);
  if (partition.text.size() > kDynamoMaxPartitionKeyBytes)
    reasons.add(ReasonCode::too_large, partition_key_.path,
                fmt::format("partition key is {} bytes; DynamoDB allows {}", partition.text.size(),
                            kDynamoMaxPartitionKeyBytes));
  append_key(partition_key_, partition_prefix_, partition, first, item, verdict);
  if (sort_key_ && sort != nullptr) {
    verdict.sort_key.assign(sort->text);
    append_key_encoding(verdict.key, sort->text);
    if (sort->text.size() > kDynamoMaxSortKeyBytes)
      reasons.add(ReasonCode::too_large, sort_key_->path,
                  fmt::format("sort key is {} bytes; DynamoDB allows {}", sort->text.size(),
                              kDynamoMaxSortKeyBytes));
    append_key(*sort_key_, sort_prefix_, *sort, first, item, verdict);
  }
  // The partition key attribute always precedes the metadata attributes.
  const MetadataText& metadata = metadata_for(provenance);
  char index_text[24];
  const auto index_end = std::to_chars(index_text, index_text + sizeof index_text, record.index);
  const std::string_view index(index_text, static_cast<std::size_t>(index_end.ptr - index_text));
  item.make_room(metadata.before_index.size() + index.size() + metadata.after_index.size() + 1);
  item.put(metadata.before_index);
  item.put(index);
  item.put(metadata.after_index);
  item.put('}');
  verdict.item_size += metadata.size + analyze_number(index).dynamodb_size;
  if (verdict.item_size > kDynamoMaxItemBytes)
    reasons.add(ReasonCode::too_large, "",
                fmt::format("item would be {} bytes by DynamoDB's size rules; the limit is {}",
                            verdict.item_size, kDynamoMaxItemBytes));
}

}  // namespace salesflow::core
