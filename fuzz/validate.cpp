// Arbitrary bytes as one record through validation, item encoding, duplicate
// tracking and the DLQ envelope: nothing may crash, every produced item and
// envelope must be valid JSON (checked with rapidjson, a parser independent of
// the one under test), and the accounting must balance.
#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include <cstdint>
#include <cstdlib>
#include <string>

#include "core/envelope.hpp"
#include "core/validation.hpp"

namespace {

using namespace salesflow::core;

void require_json(const std::string& json) {
  rapidjson::Document document;
  document.Parse<rapidjson::kParseValidateEncodingFlag>(json.data(), json.size());
  if (document.HasParseError() || !document.IsObject()) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static RecordValidator validator(Rules::defaults());
  static const EnvelopeBuilder builder(EnvelopeOptions{64 * 1024, "offload", "dlq"});
  const ObjectContext context{"bucket", "key", "\"etag\"", "", "2024-01-01T00:00:00Z"};
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  ObjectValidator object(validator, context);
  // The same record twice: the second must be a duplicate.
  for (int round = 0; round < 2; ++round) {
    const RawRecord record{text, static_cast<std::uint64_t>(round), 0, 1};
    const Disposition disposition = object.check(record);
    if (round == 1 && disposition != Disposition::duplicate) std::abort();
    const Verdict& verdict = object.verdict();
    if (disposition == Disposition::write) {
      if (!verdict.valid || verdict.item_json.empty() || !verdict.reasons.empty()) std::abort();
      require_json(verdict.item_json);
    } else if (disposition == Disposition::reject) {
      if (verdict.valid || verdict.reasons.empty()) std::abort();
      const Envelope envelope = builder.build(record, verdict.reasons, context);
      require_json(envelope.json);
      if (envelope.json.size() > 64 * 1024) std::abort();
      if (envelope.needs_offload) require_json(envelope.offload_body);
    }
  }
  if (!object.tally().balanced()) std::abort();
  return 0;
}
