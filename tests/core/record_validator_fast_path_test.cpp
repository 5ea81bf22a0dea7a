// The validator's fast paths: strings and member names copied raw from the
// record when they hold no backslash, the item written into a pre-sized
// buffer, UTF-8 checked by simdjson's first stage, and the metadata text
// reused across records of one object. Each is held to the result of the
// slow path (escapes) or to the exact item text.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <string>

#include "validator_test_support.hpp"

namespace salesflow::core {
namespace {

using testing::check_one;
using testing::codes;
using testing::has_reason;
using testing::reasons_text;

rapidjson::Document parse_item(const Verdict& verdict) {
  rapidjson::Document item;
  item.Parse<rapidjson::kParseNumbersAsStringsFlag>(verdict.item_json.data(),
                                                    verdict.item_json.size());
  EXPECT_FALSE(item.HasParseError()) << verdict.item_json;
  return item;
}

std::string text_of(const rapidjson::Value& value) {
  return std::string(value.GetString(), value.GetStringLength());
}

Rules rules_from(std::string_view toml) {
  auto rules = Rules::from_toml_string(toml, "test.toml");
  EXPECT_TRUE(rules.has_value()) << rules.error();
  return rules ? *rules : Rules::defaults();
}

TEST(ValidatorFastPath, ExactItemTextOfAPlainRecord) {
  const auto result =
      check_one(R"({"order-info":{"OrderId":"A","n":-1.5e3,"ok":true,"no":null,"l":[1,"s",[],{}]},)"
                R"("contact-info":{"email":"x"}})");
  ASSERT_TRUE(result.verdict.valid) << reasons_text(result.verdict);
  EXPECT_EQ(result.verdict.item_json,
            R"({"order-info":{"M":{"OrderId":{"S":"A"},"n":{"N":"-1.5e3"},"ok":{"BOOL":true},)"
            R"("no":{"NULL":true},"l":{"L":[{"N":"1"},{"S":"s"},{"L":[]},{"M":{}}]}}},)"
            R"("contact-info":{"M":{"email":{"S":"x"}}},"OrderId":{"S":"A"},)"
            R"("_source":{"S":"s3://sales-bucket/incoming/2024/orders.jsonl"},)"
            R"("_etag":{"S":"\"9b2cf535f27731c974343645a3985328\""},"_record_index":{"N":"0"},)"
            R"("_ingested_at":{"S":"2024-05-01T12:00:00Z"}})");
}

TEST(ValidatorFastPath, WhitespaceAroundNamesColonsAndValues) {
  const auto result = check_one(
      " {\t\"order-info\" :\n{ \"OrderId\"\r\n:\t\"A\" , \"q\" : 7 \n} ,\"contact-info\":{ "
      "\"email\"  "
      ":  \"x\"  } , \"s\" \t: \"v\" \n } \n");
  ASSERT_TRUE(result.verdict.valid) << reasons_text(result.verdict);
  const auto item = parse_item(result.verdict);
  EXPECT_EQ(text_of(item["order-info"]["M"]["OrderId"]["S"]), "A");
  EXPECT_EQ(text_of(item["order-info"]["M"]["q"]["N"]), "7");
  EXPECT_EQ(text_of(item["s"]["S"]), "v");
  EXPECT_EQ(text_of(item["OrderId"]["S"]), "A");
  EXPECT_EQ(result.verdict.partition_key, "A");
}

TEST(ValidatorFastPath, EscapedAndPlainTextGiveTheSameItem) {
  // Backslashes before, between and after plain names and strings: every
  // string must decode to the same text either way.
  const auto escaped =
      check_one(R"({"n\u0061me":"a\"b","order-info":{"OrderId":"K\\1","plain":"p"},"contact-info":)"
                R"({"email":"x"},"t\tab":"\u00e9\n","last":"z\/"})");
  ASSERT_TRUE(escaped.verdict.valid) << reasons_text(escaped.verdict);
  const auto item = parse_item(escaped.verdict);
  EXPECT_EQ(text_of(item["name"]["S"]), "a\"b");
  EXPECT_EQ(text_of(item["order-info"]["M"]["OrderId"]["S"]), "K\\1");
  EXPECT_EQ(text_of(item["order-info"]["M"]["plain"]["S"]), "p");
  EXPECT_EQ(text_of(item["t\tab"]["S"]), "\xC3\xA9\n");
  EXPECT_EQ(text_of(item["last"]["S"]), "z/");
  EXPECT_EQ(text_of(item["OrderId"]["S"]), "K\\1");
  EXPECT_EQ(escaped.verdict.partition_key, "K\\1");
  // Same item size as the plain spelling of the same values.
  const auto plain = check_one(
      "{\"name\":\"a'b\",\"order-info\":{\"OrderId\":\"K/1\",\"plain\":\"p\"},\"contact-info\":"
      "{\"email\":\"x\"},\"t_ab\":\"\xC3\xA9_\",\"last\":\"z/\"}");
  ASSERT_TRUE(plain.verdict.valid) << reasons_text(plain.verdict);
  EXPECT_EQ(plain.verdict.item_size, escaped.verdict.item_size);
}

TEST(ValidatorFastPath, NonAsciiTextIsCopiedAsIs) {
  const std::string record =
      "{\"order-info\":{\"OrderId\":\"\xE2\x82\xAC-1\"},\"contact-info\":{\"email\":\"x\"},"
      "\"n\xC3\xA4me\":\"J\xC3\xB6rg \xF0\x9F\x8E\x89\"}";
  const auto result = check_one(record);
  ASSERT_TRUE(result.verdict.valid) << reasons_text(result.verdict);
  EXPECT_NE(
      result.verdict.item_json.find("\"n\xC3\xA4me\":{\"S\":\"J\xC3\xB6rg \xF0\x9F\x8E\x89\"}"),
      std::string::npos);
  EXPECT_EQ(result.verdict.partition_key, "\xE2\x82\xAC-1");
}

TEST(ValidatorFastPath, EscapedNamesAreComparedUnescapedForDuplicates) {
  const auto result =
      check_one(R"({"order-info":{"OrderId":"A","a":1,"\u0061":2},"contact-info":{"email":"x"}})");
  EXPECT_EQ(codes(result.verdict), std::vector{ReasonCode::duplicate_member});
  EXPECT_TRUE(has_reason(result.verdict, ReasonCode::duplicate_member, "/order-info/a"));
}

TEST(ValidatorFastPath, ManyDistinctNamesAreNotDuplicatesAndOneRepeatIsFound) {
  std::string members;
  for (int i = 0; i < 200; ++i) members += fmt::format(R"(,"m{}":{})", i, i);
  const std::string base = R"({"order-info":{"OrderId":"A"},"contact-info":{"email":"x"})";
  const auto distinct = check_one(base + members + "}");
  EXPECT_TRUE(distinct.verdict.valid) << reasons_text(distinct.verdict);
  const auto repeated = check_one(base + members + R"(,"m117":0})");
  EXPECT_EQ(codes(repeated.verdict), std::vector{ReasonCode::duplicate_member});
  EXPECT_TRUE(has_reason(repeated.verdict, ReasonCode::duplicate_member, "/m117"));
  // Small objects: every pair of a few names, equal ones reported once.
  const auto small = check_one(
      R"({"order-info":{"OrderId":"A","ab":1,"ba":2,"b":3,"ab":4,"ab":5},"contact-info":{"email":"x"}})");
  EXPECT_EQ(codes(small.verdict), std::vector{ReasonCode::duplicate_member});
}

TEST(ValidatorFastPath, InvalidUtf8IsMalformedWherever) {
  const std::string head = R"({"order-info":{"OrderId":"A"},"contact-info":{"email":"x"},)";
  for (const std::string& bad : {
           head + "\"s\":\"\xFF\"}",              // invalid byte in a string
           head + "\"\xC0\xAF\":1}",              // overlong encoding in a name
           head + "\"s\":\"\xED\xA0\x80\"}",      // encoded surrogate
           head + "\"s\":\"x\"} \xC3",            // truncated sequence after the record
           head + "\"s\":\"\xF4\x90\x80\x80\"}",  // above U+10FFFF
       }) {
    SCOPED_TRACE(bad);
    const auto result = check_one(bad);
    ASSERT_EQ(codes(result.verdict), std::vector{ReasonCode::malformed_json});
    EXPECT_EQ(result.verdict.reasons.front().message, "record is not valid UTF-8");
    EXPECT_TRUE(result.verdict.item_json.empty());
  }
}

TEST(ValidatorFastPath, RawControlCharactersInStringsAreMalformed) {
  for (const std::string& bad : {
           std::string(
               "{\"order-info\":{\"OrderId\":\"A\tB\"},\"contact-info\":{\"email\":\"x\"}}"),
           std::string("{\"order-info\":{\"OrderId\":\"A\"},\"contact-info\":{\"email\":\"x\"},"
                       "\"n\x01\":1}"),
           std::string("{\"order-info\":{\"OrderId\":\"A\"},\"contact-info\":{\"email\":\"x\"},") +
               std::string("\"s\":\"\0\"}", 7),
       }) {
    SCOPED_TRACE(bad);
    EXPECT_EQ(codes(check_one(bad).verdict), std::vector{ReasonCode::malformed_json});
  }
}

TEST(ValidatorFastPath, GarbageNextToStringsIsMalformed) {
  const std::string head = R"({"order-info":{"OrderId":"A"},"contact-info":{"email":"x"},)";
  for (const std::string& bad :
       {head + R"("s":"v"x})", head + R"("s":"v" "w"})", head + R"("s" "t":1})",
        head + R"("s":"v\"})", head + R"("s":"v)", head + R"("s"x:1})", head + R"("s":"\u12"})",
        head + R"("s":"\ud800"})"}) {
    SCOPED_TRACE(bad);
    const auto result = check_one(bad);
    EXPECT_EQ(codes(result.verdict), std::vector{ReasonCode::malformed_json});
    EXPECT_TRUE(result.verdict.item_json.empty());
  }
}

TEST(ValidatorFastPath, WorstCaseExpansionFitsTheItemBuffer) {
  // One-digit numbers and empty containers grow the most when encoded.
  const std::string head = R"({"order-info":{"OrderId":"A"},"contact-info":{"email":"x"},"w":)";
  for (const auto& [first, element] :
       {std::pair<std::string, std::string>{"[0", ",0"}, {"[[]", ",[]"}}) {
    std::string record = head + first;
    for (int i = 0; i < 50000; ++i) record += element;
    record += "]}";
    SCOPED_TRACE(first);
    const auto result = check_one(record);
    ASSERT_TRUE(result.verdict.valid) << reasons_text(result.verdict);
    const auto item = parse_item(result.verdict);
    EXPECT_EQ(item["w"]["L"].Size(), 50001u);
  }
  // Records that grow one after another through the same validator.
  RecordValidator validator(Rules::defaults());
  const Provenance provenance = testing::test_provenance();
  for (std::size_t count : {1u, 10u, 1000u, 3u, 60000u, 2u}) {
    std::string record = R"({"order-info":{"OrderId":"A"},"contact-info":{"email":"x"},"z":[)";
    for (std::size_t i = 0; i < count; ++i) record += i == 0 ? "1" : ",1";
    record += "]}";
    const Verdict& verdict = validator.check(RawRecord{record, count, 0, 0}, provenance);
    ASSERT_TRUE(verdict.valid) << reasons_text(verdict);
    EXPECT_EQ(parse_item(verdict)["z"]["L"].Size(), count);
  }
}

TEST(ValidatorFastPath, ScalarsAtTheVeryEndOfTheRecord) {
  // The raw copies read ahead into the record's padding; the copied text
  // must still end where the value ends.
  for (
      const std::string& record :
      {std::string(
           R"({"contact-info":{"email":"x"},"order-info":{"OrderId":"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"}})"),
       std::string(
           R"({"contact-info":{"email":"x"},"order-info":{"OrderId":"A"},"n":12345678901234567890123})"),
       std::string(
           R"({"contact-info":{"email":"x"},"order-info":{"OrderId":"A"},"abcdefghijklmnopqrstuvwxyz0123456789":true})")}) {
    SCOPED_TRACE(record);
    const auto result = check_one(record);
    ASSERT_TRUE(result.verdict.valid) << reasons_text(result.verdict);
    const auto item = parse_item(result.verdict);
    EXPECT_TRUE(item.IsObject());
  }
  EXPECT_EQ(
      check_one(
          R"({"contact-info":{"email":"x"},"order-info":{"OrderId":"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"}})")
          .verdict.partition_key,
      "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789");
}

TEST(ValidatorFastPath, KeyAttributesFromEveryKindOfSource) {
  // An integer source of an S key is stored as its text; an N key keeps the
  // number's exact token; an escaped string is unescaped then re-escaped.
  const auto integer = check_one(
      R"({"order-info":{"OrderId":1234567890123456789012},"contact-info":{"email":"x"}})");
  ASSERT_TRUE(integer.verdict.valid) << reasons_text(integer.verdict);
  EXPECT_EQ(text_of(parse_item(integer.verdict)["OrderId"]["S"]), "1234567890123456789012");

  const Rules numeric = rules_from(R"(
[key.partition]
attribute = "Id"
path = "/id"
type = "N"
[key.sort]
attribute = "Name"
path = "/name"
)");
  const auto both = check_one(
      numeric,
      R"({"order-info":{"OrderId":"A"},"contact-info":{"email":"x"},"id":-12.50e-1,"name":"a\"b"})");
  ASSERT_TRUE(both.verdict.valid) << reasons_text(both.verdict);
  const auto item = parse_item(both.verdict);
  EXPECT_EQ(text_of(item["Id"]["N"]), "-12.50e-1");
  EXPECT_EQ(text_of(item["Name"]["S"]), "a\"b");
  EXPECT_EQ(both.verdict.partition_key, "-12.50e-1");
  EXPECT_EQ(both.verdict.sort_key, "a\"b");
}

TEST(ValidatorFastPath, MetadataFollowsTheContextOfEachCall) {
  RecordValidator validator(Rules::defaults());
  Provenance first = testing::test_provenance();
  Provenance second = first;
  second.bucket = "other\"bucket";
  second.version_id = "v2";
  second.etag.clear();
  const std::string record = R"({"order-info":{"OrderId":"A"},"contact-info":{"email":"x"}})";
  for (int round = 0; round < 3; ++round) {
    for (const Provenance* provenance : {&first, &second, &second, &first}) {
      const Verdict& verdict =
          validator.check(RawRecord{record, static_cast<std::uint64_t>(round), 0, 0}, *provenance);
      ASSERT_TRUE(verdict.valid);
      const auto item = parse_item(verdict);
      EXPECT_EQ(text_of(item["_source"]["S"]),
                "s3://" + provenance->bucket + "/" + provenance->key);
      EXPECT_EQ(item.HasMember("_etag"), !provenance->etag.empty());
      EXPECT_EQ(item.HasMember("_version_id"), !provenance->version_id.empty());
      EXPECT_EQ(text_of(item["_record_index"]["N"]), std::to_string(round));
    }
  }
  // Same item size as a fresh validator computes.
  RecordValidator fresh(Rules::defaults());
  EXPECT_EQ(validator.check(RawRecord{record, 99, 0, 0}, second).item_size,
            fresh.check(RawRecord{record, 99, 0, 0}, second).item_size);
}

TEST(ValidatorFastPath, TopLevelKeySourceMemberIsNotEncodedTwice) {
  const Rules rules = rules_from(R"(
defaults = "replace"
[key.partition]
attribute = "id"
path = "/id"
)");
  const auto result = check_one(rules, R"({"a":"x","id":"k\u0031","b":[1]})");
  ASSERT_TRUE(result.verdict.valid) << reasons_text(result.verdict);
  EXPECT_TRUE(result.verdict.item_json.starts_with(
      R"({"a":{"S":"x"},"b":{"L":[{"N":"1"}]},"id":{"S":"k1"},"_source":)"))
      << result.verdict.item_json;
}

TEST(ValidatorFastPath, NestingBeyondSimdjsonsDepthLimitIsRejectedNotFollowed) {
  const std::string head = R"({"order-info":{"OrderId":"A"},"contact-info":{"email":"x"},"deep":)";
  for (const std::size_t levels : {1023u, 1024u, 1025u, 100000u}) {
    SCOPED_TRACE(levels);
    const auto arrays = check_one(head + std::string(levels, '[') + std::string(levels, ']') + "}");
    EXPECT_FALSE(arrays.verdict.valid);
    EXPECT_TRUE(has_reason(arrays.verdict, ReasonCode::too_large,
                           "/deep/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0"))
        << reasons_text(arrays.verdict);
    std::string objects = head;
    for (std::size_t i = 0; i < levels; ++i) objects += R"({"o":)";
    objects += "1";
    for (std::size_t i = 0; i < levels; ++i) objects += "}";
    const auto nested = check_one(objects + "}");
    EXPECT_FALSE(nested.verdict.valid);
    EXPECT_EQ(codes(nested.verdict).front(), ReasonCode::too_large) << reasons_text(nested.verdict);
  }
}

}  // namespace
}  // namespace salesflow::core
