#include "core/correction.hpp"

#include <fmt/core.h>
#include <simdjson.h>

#include <algorithm>

#include "base/text.hpp"

namespace salesflow::core {
namespace {

std::string optional_text(simdjson::simdjson_result<simdjson::dom::element> element) {
  std::string_view text;
  return element.get(text) == simdjson::SUCCESS ? std::string(text) : std::string();
}

// `text` without white space between tokens; strings (and so the numbers' and
// names' bytes) are copied as they are.
tl::expected<std::string, std::string> minified(std::string_view text) {
  std::string out(text.size(), '\0');
  std::size_t length = 0;
  if (simdjson::minify(text.data(), text.size(), out.data(), length) != simdjson::SUCCESS) {
    return tl::make_unexpected("cannot be minified");
  }
  out.resize(length);
  return out;
}

}  // namespace

std::string EnvelopeSummary::source_url() const {
  return fmt::format("s3://{}/{}", provenance.bucket, provenance.key);
}

bool EnvelopeSummary::has_reason(std::string_view code) const {
  return std::any_of(reasons.begin(), reasons.end(),
                     [code](const EnvelopeReason& reason) { return reason.code == code; });
}

tl::expected<EnvelopeSummary, std::string> read_envelope(std::string_view body) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (const auto error = parser.parse(body.data(), body.size()).get(doc);
      error != simdjson::SUCCESS) {
    return tl::make_unexpected(fmt::format("not JSON ({})", simdjson::error_message(error)));
  }
  std::string_view schema;
  if (doc["schema"].get(schema) != simdjson::SUCCESS || !schema.starts_with("salesflow.dlq/")) {
    return tl::make_unexpected("not a salesflow DLQ envelope (no schema salesflow.dlq/...)");
  }
  EnvelopeSummary summary;
  summary.id = optional_text(doc["id"]);
  if (summary.id.empty()) return tl::make_unexpected("the envelope has no id");
  summary.kind = optional_text(doc["kind"]);
  const auto source = doc["source"];
  summary.provenance.bucket = optional_text(source["bucket"]);
  summary.provenance.key = optional_text(source["key"]);
  if (summary.provenance.bucket.empty() || summary.provenance.key.empty()) {
    return tl::make_unexpected("the envelope names no source bucket and key");
  }
  summary.provenance.etag = optional_text(source["etag"]);
  summary.provenance.version_id = optional_text(source["version_id"]);  // null: none
  summary.provenance.ingested_at = optional_text(doc["timestamp"]);
  std::uint64_t number = 0;
  if (doc["record"]["index"].get(number) == simdjson::SUCCESS) summary.index = number;
  if (doc["record"]["offset"].get(number) == simdjson::SUCCESS) summary.offset = number;
  if (doc["record"]["line"].get(number) == simdjson::SUCCESS) summary.line = number;
  if (doc["fault"]["begin"].get(number) == simdjson::SUCCESS) summary.fault_begin = number;
  if (doc["fault"]["end"].get(number) == simdjson::SUCCESS) summary.fault_end = number;
  simdjson::dom::array reasons;
  if (doc["reasons"].get(reasons) == simdjson::SUCCESS) {
    for (const auto reason : reasons) {
      summary.reasons.push_back(EnvelopeReason{optional_text(reason["code"]),
                                               optional_text(reason["path"]),
                                               optional_text(reason["message"])});
    }
  }
  std::string_view raw;
  if (doc["raw"].get(raw) == simdjson::SUCCESS) {
    summary.raw = std::string(raw);
  } else if (doc["raw_base64"].get(raw) == simdjson::SUCCESS) {
    summary.raw_is_base64 = true;
  }
  const auto raw_s3 = doc["raw_s3"];
  if (raw_s3.error() == simdjson::SUCCESS) {
    S3Location location{optional_text(raw_s3["bucket"]), optional_text(raw_s3["key"])};
    if (location.bucket.empty() || location.key.empty()) {
      return tl::make_unexpected("the envelope's raw_s3 names no bucket and key");
    }
    summary.raw_s3 = std::move(location);
  }
  return summary;
}

EnvelopeExporter::EnvelopeExporter() : validator_(Rules::defaults()) {}

tl::expected<std::string, std::string> EnvelopeExporter::line(std::string_view envelope) {
  simdjson::dom::parser parser;
  simdjson::dom::object members;
  if (const auto error = parser.parse(envelope.data(), envelope.size()).get(members);
      error != simdjson::SUCCESS) {
    return tl::make_unexpected(
        fmt::format("the envelope is not a JSON object ({})", simdjson::error_message(error)));
  }
  auto line = minified(envelope);
  if (!line) return tl::make_unexpected("the envelope " + line.error());
  std::string_view raw;
  simdjson::dom::element ignored;
  if (members["raw"].get(raw) != simdjson::SUCCESS ||
      members["value"].get(ignored) == simdjson::SUCCESS) {
    return line;  // no text to offer as a value (or a value already there)
  }
  // JSON as salesflow reads records: simdjson's DOM refuses integers beyond
  // 64 bits, which records may hold (and the table stores exactly).
  const Verdict& verdict = validator_.check(RawRecord{raw, 0, 0, 0}, Provenance{});
  if (std::any_of(verdict.reasons.begin(), verdict.reasons.end(),
                  [](const Reason& reason) { return reason.code == ReasonCode::malformed_json; })) {
    return line;  // not JSON: the person fixes `raw`
  }
  auto value = minified(raw);
  if (!value) return line;
  line->pop_back();  // the envelope's closing brace
  line->append(",\"value\":").append(*value).push_back('}');
  return line;
}

tl::expected<Correction, std::string> parse_correction(std::string_view text, std::uint64_t line) {
  const simdjson::padded_string padded(base::trim(text));
  simdjson::dom::parser parser;
  simdjson::dom::object members;
  if (const auto error = parser.parse(padded).get(members); error != simdjson::SUCCESS) {
    return tl::make_unexpected(
        fmt::format("not a JSON object ({})", simdjson::error_message(error)));
  }
  Correction correction;
  correction.line = line;
  std::size_t ids = 0;
  std::size_t values = 0;
  std::size_t raws = 0;
  std::string raw;
  for (const auto member : members) {
    if (member.key == "id") {
      ++ids;
      std::string_view id;
      if (member.value.get(id) != simdjson::SUCCESS || id.empty()) {
        return tl::make_unexpected("`id` must be a non-empty string");
      }
      correction.id = id;
    } else if (member.key == "value") {
      ++values;
    } else if (member.key == "raw") {
      ++raws;
      std::string_view value;
      if (member.value.get(value) != simdjson::SUCCESS) {
        return tl::make_unexpected("`raw` must be a string");
      }
      raw = value;
    }
  }
  if (ids == 0) return tl::make_unexpected("no `id`: which DLQ message does this line correct?");
  if (ids > 1 || values > 1 || raws > 1) {
    return tl::make_unexpected("`id`, `value` and `raw` may each appear once");
  }
  if (values == 0 && raws == 0) {
    return tl::make_unexpected(
        "neither `value` nor `raw`: give the corrected record as `value` (JSON) or `raw` (text)");
  }
  if (auto envelope = read_envelope(padded); envelope) {
    correction.envelope = std::move(*envelope);
  }
  if (values == 0) {
    correction.record = std::move(raw);
    return correction;
  }
  // The value's text exactly as written (numbers keep their digits): the
  // on-demand API hands out the source bytes of a value, the DOM only its
  // parsed form.
  simdjson::ondemand::parser on_demand;
  simdjson::ondemand::document document;
  simdjson::ondemand::object object;
  if (on_demand.iterate(padded).get(document) != simdjson::SUCCESS ||
      document.get_object().get(object) != simdjson::SUCCESS) {
    return tl::make_unexpected("not a JSON object");
  }
  for (auto field : object) {
    std::string_view key;
    if (field.unescaped_key().get(key) != simdjson::SUCCESS) {
      return tl::make_unexpected("a member name cannot be read");
    }
    if (key != "value") continue;
    simdjson::ondemand::value value;
    simdjson::ondemand::json_type type{};
    if (field.value().get(value) != simdjson::SUCCESS ||
        value.type().get(type) != simdjson::SUCCESS) {
      return tl::make_unexpected("`value` cannot be read");
    }
    std::string_view source;
    simdjson::error_code error = simdjson::SUCCESS;
    if (type == simdjson::ondemand::json_type::object) {
      simdjson::ondemand::object inner;
      error = value.get_object().get(inner);
      if (error == simdjson::SUCCESS) error = inner.raw_json().get(source);
    } else if (type == simdjson::ondemand::json_type::array) {
      simdjson::ondemand::array inner;
      error = value.get_array().get(inner);
      if (error == simdjson::SUCCESS) error = inner.raw_json().get(source);
    } else {
      source = value.raw_json_token();
    }
    if (error != simdjson::SUCCESS) return tl::make_unexpected("`value` cannot be read");
    correction.record = std::string(base::trim(source));
    correction.from_value = true;
    return correction;
  }
  return tl::make_unexpected("`value` cannot be read");
}

}  // namespace salesflow::core
