// The correction loop's texts: envelopes read back, export lines with a
// fixable `value` (exact numbers, one line), replay lines and their errors,
// and the `_corrected_at` attribute of a replayed item.
#include "core/correction.hpp"

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include "core/envelope.hpp"
#include "core/record_validator.hpp"
#include "validator_test_support.hpp"

namespace salesflow::core {
namespace {

Envelope envelope_of(std::string_view raw, EnvelopeOptions options = {}) {
  const EnvelopeBuilder builder(std::move(options));
  const std::vector<Reason> reasons{
      {ReasonCode::missing, "/contact-info", "required member is missing"}};
  return builder.build(RawRecord{raw, 41, 5000, 42}, reasons, testing::test_provenance());
}

rapidjson::Document parsed(const std::string& text) {
  rapidjson::Document doc;
  doc.Parse(text.data(), text.size());
  EXPECT_FALSE(doc.HasParseError()) << text;
  return doc;
}

TEST(ReadEnvelope, RebuildsTheRecordsProvenanceAndPlace) {
  const Envelope envelope = envelope_of(R"({"order-info":{"OrderId":"A"}})");
  const auto summary = read_envelope(envelope.json);
  ASSERT_TRUE(summary) << summary.error();
  const Provenance expected = testing::test_provenance();
  EXPECT_EQ(summary->id, envelope.id);
  EXPECT_EQ(summary->kind, "record");
  EXPECT_EQ(summary->provenance.bucket, expected.bucket);
  EXPECT_EQ(summary->provenance.key, expected.key);
  EXPECT_EQ(summary->provenance.etag, expected.etag);
  EXPECT_EQ(summary->provenance.version_id, "");  // null in the envelope
  EXPECT_EQ(summary->provenance.ingested_at, expected.ingested_at);
  EXPECT_EQ(summary->index, 41u);
  EXPECT_EQ(summary->offset, 5000u);
  EXPECT_EQ(summary->line, 42u);
  ASSERT_EQ(summary->reasons.size(), 1u);
  EXPECT_EQ(summary->reasons[0].code, "missing");
  EXPECT_TRUE(summary->has_reason("missing"));
  EXPECT_FALSE(summary->has_reason("empty"));
  EXPECT_EQ(summary->raw, std::optional<std::string>(R"({"order-info":{"OrderId":"A"}})"));
  EXPECT_FALSE(summary->raw_s3);
  EXPECT_EQ(summary->source_url(), "s3://sales-bucket/incoming/2024/orders.jsonl");
}

TEST(ReadEnvelope, FindsTheOffloadedText) {
  EnvelopeOptions options;
  options.max_message_bytes = kSqsMinSupportedMessageBytes;
  options.offload_bucket = "offload";
  const std::string big =
      R"({"order-info":{"OrderId":"A","n":")" + std::string(70000, 'x') + "\"}}";
  const Envelope envelope = envelope_of(big, options);
  ASSERT_TRUE(envelope.needs_offload);
  const auto reduced = read_envelope(envelope.json);
  ASSERT_TRUE(reduced) << reduced.error();
  ASSERT_TRUE(reduced->raw_s3);
  EXPECT_EQ(reduced->raw_s3->bucket, "offload");
  EXPECT_EQ(reduced->raw_s3->key, envelope.offload_key);
  EXPECT_FALSE(reduced->raw);
  const auto full = read_envelope(envelope.offload_body);
  ASSERT_TRUE(full);
  EXPECT_EQ(full->raw, std::optional<std::string>(big));
}

TEST(ReadEnvelope, RefusesWhatIsNotAnEnvelope) {
  EXPECT_FALSE(read_envelope("not json"));
  EXPECT_FALSE(read_envelope(R"({"order-info":{}})"));
  EXPECT_FALSE(read_envelope(R"({"schema":"other/1","id":"x"})"));
  EXPECT_FALSE(read_envelope(R"({"schema":"salesflow.dlq/1","source":{"bucket":"b","key":"k"}})"));
  EXPECT_FALSE(read_envelope(R"({"schema":"salesflow.dlq/1","id":"x","source":{"bucket":"b"}})"));
  const auto error = read_envelope(R"({"Records":[]})");
  ASSERT_FALSE(error);
  EXPECT_NE(error.error().find("not a salesflow DLQ envelope"), std::string::npos);
}

TEST(ExportLine, AddsTheRawRecordAsAValueWithItsNumbersExact) {
  const std::string raw =
      "{\n  \"order-info\": {\"OrderId\": \"A\", \"qty\": 12345678901234567890123,"
      " \"p\": 1.50e+2, \"note\": \"two  spaces\\n\"}\n}";
  const Envelope envelope = envelope_of(raw);
  const auto line = EnvelopeExporter().line(envelope.json);
  ASSERT_TRUE(line) << line.error();
  EXPECT_EQ(line->find('\n'), std::string::npos) << "one line even for a pretty-printed record";
  EXPECT_NE(line->find(R"("value":{"order-info":{"OrderId":"A","qty":12345678901234567890123,)"
                       R"("p":1.50e+2,"note":"two  spaces\n"}})"),
            std::string::npos)
      << *line;
  const auto doc = parsed(*line);
  EXPECT_EQ(std::string(doc["raw"].GetString()), raw) << "raw stays as it was";
  EXPECT_EQ(std::string(doc["id"].GetString()), envelope.id);
}

TEST(ExportLine, HasNoValueWhenTheRawTextIsNotJson) {
  const Envelope envelope = envelope_of(R"({"order-info": {"OrderId": "A")");
  const auto line = EnvelopeExporter().line(envelope.json);
  ASSERT_TRUE(line);
  EXPECT_FALSE(parsed(*line).HasMember("value"));
  EXPECT_FALSE(EnvelopeExporter().line("[1,2]"));
  EXPECT_FALSE(EnvelopeExporter().line("nope"));
}

TEST(ExportLine, HasNoValueWithoutRawText) {
  EnvelopeOptions options;
  options.max_message_bytes = kSqsMinSupportedMessageBytes;
  options.offload_bucket = "offload";
  const Envelope envelope = envelope_of(
      R"({"order-info":{"OrderId":"A","n":")" + std::string(70000, 'x') + "\"}}", options);
  const auto reduced = EnvelopeExporter().line(envelope.json);
  ASSERT_TRUE(reduced);
  EXPECT_FALSE(parsed(*reduced).HasMember("value"));
  const auto full = EnvelopeExporter().line(envelope.offload_body);
  ASSERT_TRUE(full);
  EXPECT_TRUE(parsed(*full).HasMember("value"));
}

TEST(ParseCorrection, TakesTheValueExactlyAsWritten) {
  const auto correction = parse_correction(
      R"({"id":"abc","raw":"{}","value": {"order-info": {"OrderId": "A", "n": 1.000000000000000000001}} })",
      7);
  ASSERT_TRUE(correction) << correction.error();
  EXPECT_EQ(correction->id, "abc");
  EXPECT_EQ(correction->line, 7u);
  EXPECT_TRUE(correction->from_value) << "value wins over raw";
  EXPECT_EQ(correction->record,
            R"({"order-info": {"OrderId": "A", "n": 1.000000000000000000001}})");
  EXPECT_FALSE(correction->envelope) << "a bare line carries no envelope";
}

TEST(ParseCorrection, TakesRawWhenThereIsNoValue) {
  const auto correction = parse_correction(R"({"id":"abc","raw":"{\"a\":\"b\\tc\"}"})", 1);
  ASSERT_TRUE(correction) << correction.error();
  EXPECT_FALSE(correction->from_value);
  EXPECT_EQ(correction->record, "{\"a\":\"b\\tc\"}");
}

TEST(ParseCorrection, ScalarAndArrayValuesAreRecordsToo) {
  const auto number = parse_correction(R"({"id":"a","value":12.50})", 1);
  ASSERT_TRUE(number);
  EXPECT_EQ(number->record, "12.50");
  const auto array = parse_correction(R"({"value":[1, 2],"id":"a"})", 1);
  ASSERT_TRUE(array);
  EXPECT_EQ(array->record, "[1, 2]");
}

TEST(ParseCorrection, AnExportLineCarriesItsEnvelope) {
  const auto line = EnvelopeExporter().line(envelope_of(R"({"order-info":{"OrderId":"A"}})").json);
  ASSERT_TRUE(line);
  const auto correction = parse_correction(*line, 3);
  ASSERT_TRUE(correction) << correction.error();
  ASSERT_TRUE(correction->envelope);
  EXPECT_EQ(correction->envelope->index, 41u);
  EXPECT_EQ(correction->record, R"({"order-info":{"OrderId":"A"}})");
}

TEST(ParseCorrection, SaysWhatIsWrong) {
  const auto error_of = [](std::string_view text) {
    const auto correction = parse_correction(text, 1);
    EXPECT_FALSE(correction) << text;
    return correction ? std::string() : correction.error();
  };
  EXPECT_NE(error_of("not json").find("not a JSON object"), std::string::npos);
  EXPECT_NE(error_of("[1]").find("not a JSON object"), std::string::npos);
  EXPECT_NE(error_of(R"({"value":{}})").find("no `id`"), std::string::npos);
  EXPECT_NE(error_of(R"({"id":"","value":{}})").find("non-empty string"), std::string::npos);
  EXPECT_NE(error_of(R"({"id":7,"value":{}})").find("non-empty string"), std::string::npos);
  EXPECT_NE(error_of(R"({"id":"a"})").find("neither `value` nor `raw`"), std::string::npos);
  EXPECT_NE(error_of(R"({"id":"a","raw":{}})").find("`raw` must be a string"), std::string::npos);
  EXPECT_NE(error_of(R"({"id":"a","value":{},"value":{}})").find("each appear once"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"id":"a","value":{"x":1})").find("not a JSON object"), std::string::npos);
}

TEST(CorrectedItem, CarriesCorrectedAtBesideTheOriginalMetadata) {
  Provenance provenance = testing::test_provenance();
  provenance.corrected_at = "2026-12-02T09:30:00.000Z";
  RecordValidator validator(Rules::defaults());
  const std::string text = R"({"order-info":{"OrderId":"A-1"},"contact-info":{"email":"x"}})";
  const Verdict& corrected = validator.check(RawRecord{text, 41, 0, 42}, provenance);
  ASSERT_TRUE(corrected.valid);
  const auto item = parsed(std::string(corrected.item_json));
  EXPECT_STREQ(item["_corrected_at"]["S"].GetString(), "2026-12-02T09:30:00.000Z");
  EXPECT_STREQ(item["_ingested_at"]["S"].GetString(), "2024-05-01T12:00:00Z");
  EXPECT_STREQ(item["_record_index"]["N"].GetString(), "41");
  const std::size_t corrected_size = corrected.item_size;
  const Verdict& ingested = validator.check(RawRecord{text, 41, 0, 42}, testing::test_provenance());
  EXPECT_EQ(std::string(ingested.item_json).find("_corrected_at"), std::string::npos);
  EXPECT_EQ(corrected_size, ingested.item_size + std::strlen("_corrected_at") +
                                std::strlen("2026-12-02T09:30:00.000Z"));
}

TEST(CorrectedItem, TheAttributeNameIsConfigurable) {
  auto rules = Rules::from_toml_string("[metadata]\ncorrected_at = \"fixed_at\"\n", "rules.toml");
  ASSERT_TRUE(rules) << rules.error();
  EXPECT_EQ(rules->metadata.corrected_at, "fixed_at");
  const auto clash =
      Rules::from_toml_string("[metadata]\ncorrected_at = \"_source\"\n", "rules.toml");
  ASSERT_FALSE(clash);
  EXPECT_NE(clash.error().find("used twice"), std::string::npos);
}

}  // namespace
}  // namespace salesflow::core
