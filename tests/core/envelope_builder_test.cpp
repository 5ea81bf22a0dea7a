// DLQ envelopes: valid JSON carrying the exact raw text, deterministic ids,
// and the offload variant for oversize records.
#include <gtest/gtest.h>
#include <simdjson.h>

#include "core/envelope.hpp"
#include "validator_test_support.hpp"

namespace salesflow::core {
namespace {

simdjson::dom::element parse(simdjson::dom::parser& parser, const std::string& json) {
  simdjson::dom::element root;
  const auto error = parser.parse(json).get(root);
  EXPECT_EQ(error, simdjson::SUCCESS) << json.substr(0, 300);
  return root;
}

std::string text_of(simdjson::dom::element element) {
  std::string_view text;
  EXPECT_EQ(element.get_string().get(text), simdjson::SUCCESS);
  return std::string(text);
}

const std::vector<Reason> kReasons{
    {ReasonCode::missing, "/order-info", "required member is missing"},
    {ReasonCode::empty, "/x", "is an \"empty\" string"}};

TEST(Envelope, CarriesReasonsSourceRecordAndExactRaw) {
  const EnvelopeBuilder builder(EnvelopeOptions{});
  Provenance provenance = testing::test_provenance();
  provenance.version_id = "v1";
  const std::string raw = "{\"a\":\"tab\there \\u00e9 \xF0\x9F\x8E\x89 \xEF\xBF\xBF\"}  ";
  const Envelope envelope = builder.build(RawRecord{raw, 7, 1234, 8}, kReasons, provenance);
  EXPECT_FALSE(envelope.needs_offload);
  simdjson::dom::parser parser;
  const auto root = parse(parser, envelope.json);
  EXPECT_EQ(text_of(root["schema"]), "salesflow.dlq/1");
  EXPECT_EQ(text_of(root["id"]), envelope.id);
  EXPECT_EQ(envelope.id.size(), 32u);
  EXPECT_EQ(text_of(root["kind"]), "record");
  EXPECT_EQ(text_of(root["raw"]), raw);
  EXPECT_EQ(text_of(root["reasons"].at(1)["code"]), "empty");
  EXPECT_EQ(text_of(root["reasons"].at(1)["message"]), kReasons[1].message);
  EXPECT_EQ(text_of(root["source"]["bucket"]), provenance.bucket);
  EXPECT_EQ(text_of(root["source"]["version_id"]), "v1");
  EXPECT_EQ(text_of(root["source"]["etag"]), provenance.etag);
  EXPECT_EQ(uint64_t(root["record"]["index"]), 7u);
  EXPECT_EQ(uint64_t(root["record"]["offset"]), 1234u);
  EXPECT_EQ(uint64_t(root["record"]["line"]), 8u);
  EXPECT_EQ(text_of(root["processor"]["version"]), SALESFLOW_VERSION);
  EXPECT_EQ(text_of(root["timestamp"]), provenance.ingested_at);
  // U+FFFF is not allowed in an SQS body: it is escaped.
  EXPECT_EQ(envelope.json.find("\xEF\xBF\xBF"), std::string::npos);
}

TEST(Envelope, InvalidUtf8RawGoesAsBase64) {
  const EnvelopeBuilder builder(EnvelopeOptions{});
  const std::string raw = "{\"a\":\"\xC3\x28\"}";
  const Envelope envelope =
      builder.build(RawRecord{raw, 0, 0, 1}, {{ReasonCode::malformed_json, "", "not UTF-8"}},
                    testing::test_provenance());
  simdjson::dom::parser parser;
  const auto root = parse(parser, envelope.json);
  EXPECT_EQ(root["raw"].error(), simdjson::NO_SUCH_FIELD);
  EXPECT_EQ(text_of(root["raw_base64"]), "eyJhIjoiwygifQ==");
}

TEST(Envelope, IdsAreDeterministicAndDistinct) {
  const Provenance provenance = testing::test_provenance();
  EXPECT_EQ(EnvelopeBuilder::record_id(provenance, 5), EnvelopeBuilder::record_id(provenance, 5));
  EXPECT_NE(EnvelopeBuilder::record_id(provenance, 5), EnvelopeBuilder::record_id(provenance, 6));
  Provenance other = provenance;
  other.version_id = "v2";
  EXPECT_NE(EnvelopeBuilder::record_id(provenance, 5), EnvelopeBuilder::record_id(other, 5));
  other = provenance;
  other.etag = "\"other\"";
  EXPECT_NE(EnvelopeBuilder::record_id(provenance, 5), EnvelopeBuilder::record_id(other, 5));
  EXPECT_NE(EnvelopeBuilder::fault_id(provenance, 0, 10),
            EnvelopeBuilder::fault_id(provenance, 0, 11));
  EXPECT_NE(EnvelopeBuilder::fault_id(provenance, 5, 5), EnvelopeBuilder::record_id(provenance, 5));
  // Length-prefixed fields: moving a byte between bucket and key changes the id.
  Provenance a = provenance, b = provenance;
  a.bucket = "ab";
  a.key = "c";
  b.bucket = "a";
  b.key = "bc";
  EXPECT_NE(EnvelopeBuilder::record_id(a, 0), EnvelopeBuilder::record_id(b, 0));
}

TEST(Envelope, FileFaultEnvelope) {
  const EnvelopeBuilder builder(EnvelopeOptions{});
  FileFault fault{100, 250, 3, {ReasonCode::malformed_json, "", "array breaks off"}, "[{\"a\":"};
  const Envelope envelope = builder.build(fault, testing::test_provenance());
  simdjson::dom::parser parser;
  const auto root = parse(parser, envelope.json);
  EXPECT_EQ(text_of(root["kind"]), "file_fault");
  EXPECT_EQ(uint64_t(root["fault"]["begin"]), 100u);
  EXPECT_EQ(uint64_t(root["fault"]["end"]), 250u);
  EXPECT_EQ(uint64_t(root["fault"]["records_before"]), 3u);
  EXPECT_EQ(text_of(root["raw"]), fault.excerpt);
  EXPECT_EQ(envelope.id, EnvelopeBuilder::fault_id(testing::test_provenance(), 100, 250));
}

TEST(Envelope, OversizeRecordIsOffloaded) {
  EnvelopeOptions options;
  options.offload_bucket = "dlq-bodies";
  options.offload_prefix = "raw";
  const EnvelopeBuilder builder(options);
  const std::string raw = "{\"pad\":\"" + std::string(300 * 1024, 'x') + "\"}";
  std::vector<Reason> reasons(100, Reason{ReasonCode::too_large, std::string(1000, 'p'), "big"});
  const Envelope envelope =
      builder.build(RawRecord{raw, 9, 0, 10}, reasons, testing::test_provenance());
  ASSERT_TRUE(envelope.needs_offload);
  EXPECT_LE(envelope.json.size(), kSqsDefaultMaxMessageBytes);
  EXPECT_EQ(envelope.offload_key, "raw/" + envelope.id + ".json");
  simdjson::dom::parser parser;
  const auto reduced = parse(parser, envelope.json);
  EXPECT_EQ(text_of(reduced["raw_s3"]["bucket"]), "dlq-bodies");
  EXPECT_EQ(text_of(reduced["raw_s3"]["key"]), envelope.offload_key);
  EXPECT_EQ(reduced["raw"].error(), simdjson::NO_SUCH_FIELD);
  EXPECT_TRUE(bool(reduced["reasons_truncated"]));
  EXPECT_EQ(uint64_t(reduced["raw_bytes"]), raw.size());
  simdjson::dom::parser full_parser;
  const auto full = parse(full_parser, envelope.offload_body);
  EXPECT_EQ(text_of(full["raw"]), raw);
  EXPECT_EQ(text_of(full["id"]), envelope.id);
  EXPECT_EQ(full["reasons"].get_array().size(), 100u);
}

// A prefix given with slashes ("salesflow-dlq-offload/") once produced keys
// with a double slash; the key has exactly one slash after the prefix.
TEST(Envelope, OffloadKeyHasOneSlashWhateverThePrefixSpelling) {
  const std::string raw = "{\"pad\":\"" + std::string(300 * 1024, 'x') + "\"}";
  for (const std::string prefix : {"salesflow-dlq-offload/", "/salesflow-dlq-offload",
                                   "salesflow-dlq-offload", "//salesflow-dlq-offload//"}) {
    EnvelopeOptions options;
    options.offload_bucket = "b";
    options.offload_prefix = prefix;
    const Envelope envelope = EnvelopeBuilder(options).build(RawRecord{raw, 0, 0, 1}, kReasons,
                                                             testing::test_provenance());
    ASSERT_TRUE(envelope.needs_offload);
    EXPECT_EQ(envelope.offload_key, "salesflow-dlq-offload/" + envelope.id + ".json") << prefix;
    EXPECT_TRUE(is_offload_location(options, "b", envelope.offload_key)) << prefix;
  }
}

// Offloaded bodies (and every envelope) are recognisable by their first bytes,
// so no reader ever takes them for sales data, wherever they are stored.
TEST(Envelope, EnvelopesAreRecognisedByTheirFirstBytes) {
  EnvelopeOptions options;
  options.offload_bucket = "b";
  const std::string raw = "{\"pad\":\"" + std::string(300 * 1024, 'x') + "\"}";
  const Envelope big =
      EnvelopeBuilder(options).build(RawRecord{raw, 0, 0, 1}, kReasons, testing::test_provenance());
  ASSERT_TRUE(big.needs_offload);
  EXPECT_TRUE(starts_like_envelope(big.offload_body));
  EXPECT_TRUE(starts_like_envelope(big.json));
  EXPECT_TRUE(starts_like_envelope(
      std::string_view(big.offload_body).substr(0, kEnvelopeSignature.size())));
  EXPECT_FALSE(starts_like_envelope(
      std::string_view(big.offload_body).substr(0, kEnvelopeSignature.size() - 1)));
  EXPECT_FALSE(starts_like_envelope(raw));
  EXPECT_FALSE(starts_like_envelope(R"({"schema":"orders/1","order-info":{}})"));
  EXPECT_FALSE(starts_like_envelope(""));
}

TEST(Envelope, OffloadLocationIsTheBucketAndPrefixOnly) {
  EnvelopeOptions options;
  options.offload_bucket = "incoming";
  options.offload_prefix = "salesflow-dlq-offload/";
  EXPECT_TRUE(is_offload_location(options, "incoming", "salesflow-dlq-offload/abc.json"));
  EXPECT_TRUE(is_offload_location(options, "incoming", "salesflow-dlq-offload//abc.json"));
  EXPECT_FALSE(is_offload_location(options, "other", "salesflow-dlq-offload/abc.json"));
  EXPECT_FALSE(is_offload_location(options, "incoming", "salesflow-dlq-offloaded/abc.json"));
  EXPECT_FALSE(is_offload_location(options, "incoming", "salesflow-dlq-offload"));
  EXPECT_FALSE(is_offload_location(options, "incoming", "orders/salesflow-dlq-offload/a.json"));
  options.offload_prefix = "";
  EXPECT_TRUE(is_offload_location(options, "incoming", "abc.json"));
  options.offload_bucket = "";
  EXPECT_FALSE(is_offload_location(options, "", "abc.json"));
}

TEST(Envelope, LimitIsConfigurableUpToOneMebibyte) {
  EnvelopeOptions options;
  options.max_message_bytes = 1024 * 1024;
  const EnvelopeBuilder builder(options);
  const std::string raw(300 * 1024, 'y');
  EXPECT_FALSE(
      builder.build(RawRecord{raw, 0, 0, 1}, kReasons, testing::test_provenance()).needs_offload);
  options.max_message_bytes = 64 * 1024 * 1024;
  EXPECT_EQ(EnvelopeBuilder(options).options().max_message_bytes, kSqsMaxMessageBytes);
}

TEST(Envelope, RejectedVerdictEndToEnd) {
  RecordValidator validator(Rules::defaults());
  const std::string raw =
      R"({"order-info":{"OrderId":""},"contact-info":{"email":"x","email":"y"}})";
  const Verdict& verdict = validator.check(RawRecord{raw, 3, 0, 4}, testing::test_provenance());
  ASSERT_FALSE(verdict.valid);
  const Envelope envelope =
      EnvelopeBuilder(EnvelopeOptions{})
          .build(RawRecord{raw, 3, 0, 4}, verdict.reasons, testing::test_provenance());
  simdjson::dom::parser parser;
  const auto root = parse(parser, envelope.json);
  EXPECT_EQ(root["reasons"].get_array().size(), verdict.reasons.size());
  EXPECT_EQ(text_of(root["raw"]), raw);
}

// Found by fuzzing: a reason message quoting a malformed record cut in the
// middle of a UTF-8 sequence made the envelope invalid JSON (SQS refuses it).
TEST(Envelope, ReasonMessagesQuotingBrokenUtf8StayValidJson) {
  RecordValidator validator(Rules::defaults());
  const std::string raw =
      std::string("8\xC4\xBF\xC4\xBF") + std::string(32, '\0') + "\xDA\xBF\xC4\xBF";
  const Verdict& verdict = validator.check(RawRecord{raw, 0, 0, 1}, testing::test_provenance());
  ASSERT_FALSE(verdict.valid);
  const Envelope envelope =
      EnvelopeBuilder(EnvelopeOptions{})
          .build(RawRecord{raw, 0, 0, 1}, verdict.reasons, testing::test_provenance());
  EXPECT_TRUE(simdjson::validate_utf8(envelope.json.data(), envelope.json.size()));
  simdjson::dom::parser parser;
  const auto root = parse(parser, envelope.json);
  EXPECT_EQ(root["reasons"].get_array().size(), verdict.reasons.size());

  const std::vector<Reason> broken{{ReasonCode::malformed_json, "/a\xE2\x82", "quote \xC3"}};
  const Envelope direct = EnvelopeBuilder(EnvelopeOptions{})
                              .build(RawRecord{"x", 0, 0, 1}, broken, testing::test_provenance());
  EXPECT_TRUE(simdjson::validate_utf8(direct.json.data(), direct.json.size()));
}

}  // namespace
}  // namespace salesflow::core
