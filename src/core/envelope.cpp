#include "core/envelope.hpp"

#include <simdjson.h>

#include <algorithm>
#include <span>

#include "base/base64.hpp"
#include "base/digest.hpp"
#include "base/hex.hpp"
#include "base/json_string.hpp"
#include "base/utf8.hpp"
#include "core/item_json.hpp"

#ifndef SALESFLOW_VERSION
#define SALESFLOW_VERSION "unknown"
#endif

namespace salesflow::core {
namespace {

// In the reduced (offloaded) envelope, reasons are cut to these bounds so it
// always fits the smallest supported message size.
constexpr std::size_t kReducedMaxReasons = 32;
constexpr std::size_t kReducedMaxPathBytes = 256;
constexpr std::size_t kReducedMaxMessageBytes = 512;

// Length-prefixed fields, so that no two identities hash the same text.
void append_field(std::string& out, std::string_view field) {
  append_decimal(out, field.size());
  out.push_back(':');
  out.append(field);
  out.push_back('\n');
}

// An id: the first 128 bits of the SHA-256 of `text`, in hex.
std::string sha256_hex32(std::string_view text) {
  const base::Sha256Digest digest = base::sha256(text);
  return base::hex_encode(std::span(digest).first<16>());
}

std::string identity(const Provenance& provenance, std::string_view kind) {
  std::string text;
  append_field(text, kEnvelopeSchema);
  append_field(text, provenance.bucket);
  append_field(text, provenance.key);
  append_field(text, provenance.version_id);
  append_field(text, provenance.etag);
  append_field(text, kind);
  return text;
}

// Cuts `text` to at most `limit` bytes without splitting a UTF-8 sequence.
std::string_view utf8_prefix(std::string_view text, std::size_t limit) {
  if (text.size() <= limit) return text;
  std::size_t end = limit;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  return text.substr(0, end);
}

void append_reasons(std::string& out, const std::vector<Reason>& reasons, bool reduced) {
  out.append("\"reasons\":[");
  const std::size_t count = reduced ? std::min(reasons.size(), kReducedMaxReasons) : reasons.size();
  for (std::size_t i = 0; i < count; ++i) {
    const Reason& reason = reasons[i];
    if (i != 0) out.push_back(',');
    out.append("{\"code\":");
    base::append_json_string(out, to_string(reason.code));
    out.append(",\"path\":");
    // Messages may quote bytes of a malformed record: never let them break the JSON.
    const std::string path = base::to_valid_utf8(reason.path);
    const std::string message = base::to_valid_utf8(reason.message);
    base::append_json_string(out, reduced ? utf8_prefix(path, kReducedMaxPathBytes) : path,
                             base::Escaping::sqs);
    out.append(",\"message\":");
    base::append_json_string(out, reduced ? utf8_prefix(message, kReducedMaxMessageBytes) : message,
                             base::Escaping::sqs);
    out.push_back('}');
  }
  out.push_back(']');
  if (reduced) {
    bool cut = count < reasons.size();
    for (std::size_t i = 0; i < count && !cut; ++i)
      cut = reasons[i].path.size() > kReducedMaxPathBytes ||
            reasons[i].message.size() > kReducedMaxMessageBytes;
    if (cut) out.append(",\"reasons_truncated\":true");
  }
}

}  // namespace

// What an envelope is about: a record or a fault.
struct EnvelopeBuilder::Subject {
  std::string id;
  bool fault = false;
  std::uint64_t index = 0, offset = 0, line = 0;         // record
  std::uint64_t begin = 0, end = 0, records_before = 0;  // fault
  std::string_view raw;
  const std::vector<Reason>* reasons = nullptr;
};

EnvelopeBuilder::EnvelopeBuilder(EnvelopeOptions options) : options_(std::move(options)) {
  options_.max_message_bytes =
      std::clamp(options_.max_message_bytes, kSqsMinSupportedMessageBytes, kSqsMaxMessageBytes);
}

std::string EnvelopeBuilder::record_id(const Provenance& provenance, std::uint64_t index) {
  std::string text = identity(provenance, "record");
  append_decimal(text, index);
  return sha256_hex32(text);
}

std::string EnvelopeBuilder::fault_id(const Provenance& provenance, std::uint64_t begin,
                                      std::uint64_t end) {
  std::string text = identity(provenance, "fault");
  append_decimal(text, begin);
  text.push_back('-');
  append_decimal(text, end);
  return sha256_hex32(text);
}

Envelope EnvelopeBuilder::build(const RawRecord& record, const std::vector<Reason>& reasons,
                                const Provenance& provenance) const {
  Subject subject;
  subject.id = record_id(provenance, record.index);
  subject.index = record.index;
  subject.offset = record.offset;
  subject.line = record.line;
  subject.raw = record.text;
  subject.reasons = &reasons;
  return finish(subject, provenance);
}

Envelope EnvelopeBuilder::build(const FileFault& fault, const Provenance& provenance) const {
  const std::vector<Reason> reasons{fault.reason};
  Subject subject;
  subject.id = fault_id(provenance, fault.begin, fault.end);
  subject.fault = true;
  subject.begin = fault.begin;
  subject.end = fault.end;
  subject.records_before = fault.records_before;
  subject.raw = fault.excerpt;
  subject.reasons = &reasons;
  return finish(subject, provenance);
}

Envelope EnvelopeBuilder::finish(const Subject& subject, const Provenance& provenance) const {
  const auto write = [&](std::string& out, bool reduced, const std::string& offload_key) {
    out.reserve(subject.raw.size() + 1024);
    out.append("{\"schema\":");
    base::append_json_string(out, kEnvelopeSchema);
    out.append(",\"id\":");
    base::append_json_string(out, subject.id);
    out.append(subject.fault ? ",\"kind\":\"file_fault\"," : ",\"kind\":\"record\",");
    append_reasons(out, *subject.reasons, reduced);
    out.append(",\"source\":{\"bucket\":");
    base::append_json_string(out, provenance.bucket, base::Escaping::sqs);
    out.append(",\"key\":");
    base::append_json_string(out, provenance.key, base::Escaping::sqs);
    out.append(",\"version_id\":");
    if (provenance.version_id.empty())
      out.append("null");
    else
      base::append_json_string(out, provenance.version_id, base::Escaping::sqs);
    out.append(",\"etag\":");
    base::append_json_string(out, provenance.etag, base::Escaping::sqs);
    out.push_back('}');
    if (subject.fault) {
      out.append(",\"fault\":{\"begin\":");
      append_decimal(out, subject.begin);
      out.append(",\"end\":");
      append_decimal(out, subject.end);
      out.append(",\"records_before\":");
      append_decimal(out, subject.records_before);
      out.push_back('}');
    } else {
      out.append(",\"record\":{\"index\":");
      append_decimal(out, subject.index);
      out.append(",\"offset\":");
      append_decimal(out, subject.offset);
      out.append(",\"line\":");
      append_decimal(out, subject.line);
      out.push_back('}');
    }
    out.append(",\"raw_bytes\":");
    append_decimal(out, subject.raw.size());
    if (reduced) {
      out.append(",\"raw_s3\":{\"bucket\":");
      base::append_json_string(out, options_.offload_bucket, base::Escaping::sqs);
      out.append(",\"key\":");
      base::append_json_string(out, offload_key, base::Escaping::sqs);
      out.push_back('}');
    } else if (simdjson::validate_utf8(subject.raw.data(), subject.raw.size())) {
      out.append(",\"raw\":");
      base::append_json_string(out, subject.raw, base::Escaping::sqs);
    } else {
      out.append(",\"raw_base64\":\"");
      base::append_base64(out, subject.raw);
      out.push_back('"');
    }
    out.append(",\"processor\":{\"name\":\"salesflow\",\"version\":");
    base::append_json_string(out, SALESFLOW_VERSION);
    out.append("},\"timestamp\":");
    base::append_json_string(out, provenance.ingested_at, base::Escaping::sqs);
    out.push_back('}');
  };

  Envelope envelope;
  envelope.id = subject.id;
  write(envelope.json, false, {});
  if (envelope.json.size() <= options_.max_message_bytes) return envelope;
  envelope.needs_offload = true;
  envelope.offload_body = std::move(envelope.json);
  envelope.json.clear();
  const std::string_view prefix = trim_slashes(options_.offload_prefix);
  envelope.offload_key =
      prefix.empty() ? subject.id + ".json" : std::string(prefix) + "/" + subject.id + ".json";
  write(envelope.json, true, envelope.offload_key);
  return envelope;
}

bool starts_like_envelope(std::string_view head) {
  return head.starts_with(kEnvelopeSignature);
}

std::string_view trim_slashes(std::string_view prefix) {
  while (prefix.starts_with('/')) prefix.remove_prefix(1);
  while (prefix.ends_with('/')) prefix.remove_suffix(1);
  return prefix;
}

bool is_offload_location(const EnvelopeOptions& options, std::string_view bucket,
                         std::string_view key) {
  if (options.offload_bucket.empty() || bucket != options.offload_bucket) return false;
  const std::string_view prefix = trim_slashes(options.offload_prefix);
  return prefix.empty()
             ? key.ends_with(".json")
             : key.size() > prefix.size() && key.starts_with(prefix) && key[prefix.size()] == '/';
}

}  // namespace salesflow::core
