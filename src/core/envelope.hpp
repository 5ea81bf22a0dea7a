#pragma once
// DLQ envelopes: one JSON message per rejected record or FileFault, schema
// "salesflow.dlq/1" (docs/dlq-envelope.md).

#include <cstddef>
#include <string>
#include <vector>

#include "core/record.hpp"

namespace salesflow::core {

inline constexpr std::string_view kEnvelopeSchema = "salesflow.dlq/1";
inline constexpr std::size_t kSqsDefaultMaxMessageBytes = 256 * 1024;
inline constexpr std::size_t kSqsMinSupportedMessageBytes = 64 * 1024;
inline constexpr std::size_t kSqsMaxMessageBytes = 1024 * 1024;

struct EnvelopeOptions {
  // The queue's message size limit; clamped to [64 KiB, 1 MiB].
  std::size_t max_message_bytes = kSqsDefaultMaxMessageBytes;
  // Where an oversize envelope's full text goes: s3://offload_bucket/<offload_prefix>/<id>.json
  // (slashes around the prefix are ignored: the key has exactly one after it).
  std::string offload_bucket;
  std::string offload_prefix = "salesflow-dlq";
};

// The first bytes of every envelope salesflow writes (and so of every offloaded
// one stored in S3): an object starting with them is salesflow's own output,
// never sales data, wherever it is stored.
inline constexpr std::string_view kEnvelopeSignature = R"({"schema":"salesflow.dlq/)";

// Whether `head` (at least kEnvelopeSignature.size() bytes of an object, or all
// of a shorter one) starts like a salesflow envelope.
[[nodiscard]] bool starts_like_envelope(std::string_view head);

// `prefix` without leading or trailing slashes ("a/b/" and "/a/b" are "a/b").
[[nodiscard]] std::string_view trim_slashes(std::string_view prefix);

// Whether s3://bucket/key lies where `options` offloads envelopes to.
[[nodiscard]] bool is_offload_location(const EnvelopeOptions& options, std::string_view bucket,
                                       std::string_view key);

struct Envelope {
  std::string id;    // 32 hex chars, deterministic for (object, record index / fault range)
  std::string json;  // the SQS message body, always within max_message_bytes
  // When true the full envelope did not fit: `json` is the reduced envelope
  // with "raw_s3", and the caller must store `offload_body` at s3://
  // offload_bucket/offload_key before sending `json`.
  bool needs_offload = false;
  std::string offload_key;
  std::string offload_body;  // the full envelope (with the raw text)
};

// Cost per envelope: one SHA-256 over the identity fields, one JSON write of
// the reasons and the raw text (escaped, or base64 when not UTF-8).
class EnvelopeBuilder {
 public:
  explicit EnvelopeBuilder(EnvelopeOptions options);

  Envelope build(const RawRecord& record, const std::vector<Reason>& reasons,
                 const Provenance& provenance) const;
  Envelope build(const FileFault& fault, const Provenance& provenance) const;

  // The deterministic ids, exposed for consumers and tests.
  static std::string record_id(const Provenance& provenance, std::uint64_t index);
  static std::string fault_id(const Provenance& provenance, std::uint64_t begin, std::uint64_t end);

  const EnvelopeOptions& options() const { return options_; }

 private:
  struct Subject;
  Envelope finish(const Subject& subject, const Provenance& provenance) const;
  EnvelopeOptions options_;
};

}  // namespace salesflow::core
