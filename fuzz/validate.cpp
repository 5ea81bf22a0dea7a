// Arbitrary bytes as one record through validation, item encoding, duplicate
// tracking and the DLQ envelope: nothing may crash, every produced item and
// envelope must be valid JSON (checked with rapidjson, a parser independent of
// the one under test), the record must be malformed_json exactly when
// rapidjson rejects it, and the accounting must balance.
#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include "base/utf8.hpp"
#include "core/envelope.hpp"
#include "core/object_validator.hpp"

namespace {

using namespace salesflow::core;

void require_json(std::string_view json) {
  rapidjson::Document document;
  document.Parse<rapidjson::kParseValidateEncodingFlag>(json.data(), json.size());
  if (document.HasParseError() || !document.IsObject()) std::abort();
}

// Whether rapidjson finds `text` malformed, or nullopt where the two parsers
// legitimately differ: rapidjson refuses exponents beyond a double's (JSON
// allows them; the validator reports invalid_number) and accepts a lone low
// surrogate escape such as \udc00 (which is not UTF-8; the validator refuses
// it); it takes a NUL byte for the end of the input; and past the validator's
// nesting limit the validator stops reading.
std::optional<bool> rapidjson_rejects(std::string_view text, const Verdict& verdict) {
  for (const Reason& reason : verdict.reasons)
    if (reason.code == ReasonCode::too_large && reason.message.find("nested") != std::string::npos)
      return std::nullopt;
  // rapidjson takes a stray byte such as 0xBF before a number for part of it:
  // input that is not UTF-8 must be malformed, whatever rapidjson says.
  if (salesflow::base::to_valid_utf8(text) != text) return true;
  // rapidjson's recursive parser (its iterative one is laxer still), kept off
  // deeply nested input.
  if (std::count_if(text.begin(), text.end(), [](char c) { return c == '[' || c == '{'; }) > 512)
    return std::nullopt;
  rapidjson::Document document;
  document.Parse<rapidjson::kParseValidateEncodingFlag | rapidjson::kParseNumbersAsStringsFlag>(
      text.data(), text.size());
  if (document.GetParseError() == rapidjson::kParseErrorNumberTooBig) return std::nullopt;
  if (!document.HasParseError()) {
    // rapidjson stops at a NUL byte as if the input ended there.
    if (text.find('\0') != std::string_view::npos) return std::nullopt;
    for (std::size_t at = text.find("\\u"); at != std::string_view::npos;
         at = text.find("\\u", at + 1))
      if (at + 3 < text.size() && (text[at + 2] | 0x20) == 'd' &&
          std::string_view("cdef").find(static_cast<char>(text[at + 3] | 0x20)) !=
              std::string_view::npos)
        return std::nullopt;
  }
  return document.HasParseError();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static RecordValidator validator(Rules::defaults());
  static const EnvelopeBuilder builder(EnvelopeOptions{64 * 1024, "offload", "dlq"});
  const Provenance provenance{"bucket", "key", "\"etag\"", "", "2024-01-01T00:00:00Z", ""};
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  ObjectValidator object(validator, provenance);
  // The same record twice: the second is a duplicate of a written record, or
  // rejected again (every rejected occurrence gets its own envelope).
  Disposition first = Disposition::write;
  for (int round = 0; round < 2; ++round) {
    const RawRecord record{text, static_cast<std::uint64_t>(round), 0, 1};
    // No memory budget: tracking never spills, so it cannot fail.
    const Disposition disposition = object.check(record).value();
    if (round == 0) first = disposition;
    if (round == 1 &&
        disposition != (first == Disposition::write ? Disposition::duplicate : Disposition::reject))
      std::abort();
    const Verdict& verdict = object.verdict();
    if (round == 0) {
      bool malformed = false;
      for (const Reason& reason : verdict.reasons)
        malformed |= reason.code == ReasonCode::malformed_json;
      const std::optional<bool> expected = rapidjson_rejects(text, verdict);
      if (expected && *expected != malformed) std::abort();
    }
    if (disposition == Disposition::write) {
      if (!verdict.valid || verdict.item_json.empty() || !verdict.reasons.empty()) std::abort();
      require_json(verdict.item_json);
    } else if (disposition == Disposition::reject) {
      if (verdict.valid || verdict.reasons.empty()) std::abort();
      const Envelope envelope = builder.build(record, verdict.reasons, provenance);
      require_json(envelope.json);
      if (envelope.json.size() > 64 * 1024) std::abort();
      if (envelope.needs_offload) require_json(envelope.offload_body);
    }
  }
  if (!object.tally().balanced()) std::abort();
  return 0;
}
