// The DynamoDB item: a faithful, re-parseable encoding of the whole record,
// with key and metadata attributes and DynamoDB's size rules.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>
#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "base/utf8.hpp"
#include "core/item_json.hpp"
#include "validator_test_support.hpp"

namespace salesflow::core {
namespace {

using testing::check_one;
using testing::reasons_text;

constexpr unsigned kParseFlags = rapidjson::kParseNumbersAsStringsFlag;

// Turns a DynamoDB AttributeValue back into the plain JSON value it encodes.
void decode(const rapidjson::Value& attribute, rapidjson::Value& out,
            rapidjson::Document::AllocatorType& allocator) {
  ASSERT_TRUE(attribute.IsObject());
  ASSERT_EQ(attribute.MemberCount(), 1u);
  const auto& member = *attribute.MemberBegin();
  const std::string type = member.name.GetString();
  const rapidjson::Value& value = member.value;
  if (type == "S") {
    ASSERT_TRUE(value.IsString());
    out.SetString(value.GetString(), value.GetStringLength(), allocator);
  } else if (type == "N") {
    ASSERT_TRUE(value.IsString());
    out.SetString(value.GetString(), value.GetStringLength(), allocator);  // numbers as text
  } else if (type == "BOOL") {
    ASSERT_TRUE(value.IsBool());
    out.SetBool(value.GetBool());
  } else if (type == "NULL") {
    ASSERT_TRUE(value.IsTrue());
    out.SetNull();
  } else if (type == "L") {
    ASSERT_TRUE(value.IsArray());
    out.SetArray();
    for (const auto& element : value.GetArray()) {
      rapidjson::Value decoded;
      decode(element, decoded, allocator);
      out.PushBack(decoded, allocator);
    }
  } else if (type == "M") {
    ASSERT_TRUE(value.IsObject());
    out.SetObject();
    for (const auto& entry : value.GetObject()) {
      rapidjson::Value decoded;
      decode(entry.value, decoded, allocator);
      rapidjson::Value name(entry.name, allocator);
      out.AddMember(name, decoded, allocator);
    }
  } else {
    FAIL() << "unknown type " << type;
  }
}

// Numbers in the original are compared by their exact text.
void expect_same(const rapidjson::Value& original, const rapidjson::Value& decoded) {
  ASSERT_EQ(original.GetType(), decoded.GetType());
  if (original.IsString()) {
    EXPECT_EQ(std::string(original.GetString(), original.GetStringLength()),
              std::string(decoded.GetString(), decoded.GetStringLength()));
  } else if (original.IsArray()) {
    ASSERT_EQ(original.Size(), decoded.Size());
    for (rapidjson::SizeType i = 0; i < original.Size(); ++i) expect_same(original[i], decoded[i]);
  } else if (original.IsObject()) {
    ASSERT_EQ(original.MemberCount(), decoded.MemberCount());
    auto d = decoded.MemberBegin();
    for (auto o = original.MemberBegin(); o != original.MemberEnd(); ++o, ++d) {
      EXPECT_EQ(std::string(o->name.GetString(), o->name.GetStringLength()),
                std::string(d->name.GetString(), d->name.GetStringLength()));
      expect_same(o->value, d->value);
    }
  } else if (original.IsBool()) {
    EXPECT_EQ(original.GetBool(), decoded.GetBool());
  }
}

void expect_round_trip(const std::string& record) {
  SCOPED_TRACE(record);
  const auto result = check_one(record);
  ASSERT_TRUE(result.verdict.valid) << reasons_text(result.verdict);
  rapidjson::Document item;
  item.Parse<kParseFlags>(result.verdict.item_json.data(), result.verdict.item_json.size());
  ASSERT_FALSE(item.HasParseError()) << rapidjson::GetParseError_En(item.GetParseError()) << "\n"
                                     << result.verdict.item_json;
  rapidjson::Document original;
  original.Parse<kParseFlags>(record.c_str(), record.size());
  ASSERT_FALSE(original.HasParseError());
  // Decode every record member back; skip the key and metadata attributes.
  rapidjson::Document decoded;
  decoded.SetObject();
  for (const auto& entry : item.GetObject()) {
    const std::string name(entry.name.GetString(), entry.name.GetStringLength());
    const rapidjson::Value name_value(rapidjson::StringRef(name.data(), name.size()));
    if (original.FindMember(name_value) == original.MemberEnd()) {
      EXPECT_TRUE(name == "OrderId" || name.starts_with("_")) << name;
      continue;
    }
    rapidjson::Value value;
    decode(entry.value, value, decoded.GetAllocator());
    rapidjson::Value key(entry.name, decoded.GetAllocator());
    decoded.AddMember(key, value, decoded.GetAllocator());
  }
  expect_same(original, decoded);
}

TEST(ItemEncoding, RoundTripsThroughRapidJson) {
  expect_round_trip(
      R"({"order-info":{"OrderId":"A-1","lines":[{"sku":"x","qty":3,"price":-0.5e-3},[],{}],"gift":false,"note":null},"contact-info":{"email":"a@b","phone":""}})");
  expect_round_trip(
      R"({"order-info":{"OrderId":"\"q\" \\ \/ \b\f\n\r\t \u0001 \u001f é 🎉 \ud83c\udf89 \u2028"},"contact-info":{"email":"x"},"ünïcödé":"\u0000"})");
  expect_round_trip(
      R"({"order-info":{"OrderId":"A"},"contact-info":{"email":"x"},"n":[0,-0,1E+2,1e-2,123456789012345678901234567890]})");
}

// ---- properties over random records ----

rc::Gen<std::string> whitespace() {
  return rc::gen::element<std::string>("", "", "", " ", "\n", "\t ", "\r\n  ");
}

// The inside of a string literal: plain text, multi-byte UTF-8, every kind of
// escape (a surrogate pair included) and bytes that are structure outside strings.
rc::Gen<std::string> string_content() {
  return rc::gen::map(
      rc::gen::container<std::vector<std::string>>(rc::gen::element<std::string>(
          "a", "Zq", "0", " ", "\xC3\xA9", "\xF0\x9F\x8E\x89", "\\n", "\\\"", "\\\\", "\\/",
          "\\u00e9", "\\u0000", "\\ud83c\\udf89", "{", "}", "[", "]", ":", ",")),
      [](const std::vector<std::string>& parts) {
        std::string out;
        for (const std::string& part : parts) out += part;
        return out;
      });
}

rc::Gen<std::string> scalar_literal() {
  return rc::gen::oneOf(
      rc::gen::map(string_content(), [](const std::string& text) { return '"' + text + '"'; }),
      rc::gen::element<std::string>("0", "-0", "7", "-12", "3.25", "-0.5e-3", "1E+2", "2e10",
                                    "123456789012345678901234567890", "0.000001", "true", "false",
                                    "null"));
}

// Members `"m<i>_<text>": <value>` (unique names), each token surrounded by
// random whitespace, without the braces.
std::string members_text(const std::vector<std::pair<std::string, std::string>>& members,
                         const std::vector<std::string>& spaces) {
  std::string out;
  for (std::size_t i = 0; i < members.size(); ++i) {
    const std::string& space = spaces[i % spaces.size()];
    if (i != 0) out += ',';
    out += space + "\"m" + std::to_string(i) + "_" + members[i].first + "\"" + space + ":" + space +
           members[i].second + space;
  }
  return out;
}

// Any JSON value nested up to `depth` levels, with random whitespace.
rc::Gen<std::string> json_value(int depth) {
  if (depth <= 0) return scalar_literal();
  // Small containers: a few values per level keeps records near real sizes.
  return rc::gen::resize(
      6, rc::gen::oneOf(
             scalar_literal(),
             rc::gen::map(
                 rc::gen::pair(rc::gen::container<std::vector<std::string>>(json_value(depth - 1)),
                               whitespace()),
                 [](const std::pair<std::vector<std::string>, std::string>& array) {
                   std::string out = "[" + array.second;
                   for (std::size_t i = 0; i < array.first.size(); ++i)
                     out += (i ? "," : "") + array.first[i] + array.second;
                   return out + "]";
                 }),
             rc::gen::map(
                 rc::gen::pair(
                     rc::gen::container<std::vector<std::pair<std::string, std::string>>>(
                         rc::gen::pair(string_content(), json_value(depth - 1))),
                     rc::gen::nonEmpty(rc::gen::container<std::vector<std::string>>(whitespace()))),
                 [](const auto& object) {
                   return "{" + members_text(object.first, object.second) + "}";
                 })));
}

// A complete record (the default rules' members first) with random extra members.
rc::Gen<std::string> complete_record() {
  return rc::gen::map(
      rc::gen::pair(rc::gen::container<std::vector<std::pair<std::string, std::string>>>(
                        rc::gen::pair(string_content(), json_value(3))),
                    rc::gen::nonEmpty(rc::gen::container<std::vector<std::string>>(whitespace()))),
      [](const auto& extra) {
        const std::string& space = extra.second.front();
        std::string out = space + "{" + space + R"("order-info":{"OrderId":"A-1"},)" + space +
                          R"("contact-info" : { "email" : "x" })";
        const std::string more = members_text(extra.first, extra.second);
        if (!more.empty()) out += "," + more;
        return out + "}" + space;
      });
}

rapidjson::ParseErrorCode rapidjson_error(const std::string& text) {
  rapidjson::Document document;
  // The recursive parser: the iterative one takes any stray byte for the
  // start of a number.
  document.Parse<rapidjson::kParseValidateEncodingFlag | kParseFlags>(text.data(), text.size());
  return document.GetParseError();
}

// rapidjson accepts a lone low surrogate (\udc00) and writes it as bytes that
// are not UTF-8; the validator rejects it, as DynamoDB would.
bool has_low_surrogate_escape(const std::string& text) {
  for (std::size_t at = text.find("\\u"); at != std::string::npos; at = text.find("\\u", at + 1))
    if (at + 3 < text.size() && (text[at + 2] == 'd' || text[at + 2] == 'D') &&
        std::string_view("cdefCDEF").find(text[at + 3]) != std::string_view::npos)
      return true;
  return false;
}

RC_GTEST_PROP(ItemEncodingProperty, RandomCompleteRecordsRoundTrip, ()) {
  const std::string record = *complete_record();
  expect_round_trip(record);
  RC_ASSERT(!::testing::Test::HasFailure());
}

// One byte deleted, inserted or replaced anywhere: the record is rejected as
// malformed_json exactly when an independent parser rejects it. Twenty
// mutations of each generated record.
RC_GTEST_PROP(ItemEncodingProperty, MalformedExactlyWhenRapidJsonRejects, ()) {
  const std::string complete = *complete_record();
  for (int round = 0; round < 20; ++round) {
    std::string record = complete;
    const auto at = *rc::gen::inRange<std::size_t>(0, record.size());
    const char byte = *rc::gen::element('{', '}', '[', ']', ':', ',', '"', '\\', ' ', '0', '-', '.',
                                        'e', 'n', 't', 'u', 'x', '\x01', '\xC3');
    switch (*rc::gen::inRange(0, 3)) {
      case 0:
        record.erase(at, 1);
        break;
      case 1:
        record.insert(at, 1, byte);
        break;
      default:
        record[at] = byte;
    }
    // rapidjson takes a stray byte such as 0xC3 before a number for part of
    // it: input that is not UTF-8 must be malformed, whatever rapidjson says.
    const bool utf8 = base::to_valid_utf8(record) == record;
    const rapidjson::ParseErrorCode error = rapidjson_error(record);
    const bool accepted = utf8 && error == rapidjson::kParseErrorNone;
    // rapidjson refuses exponents beyond a double's even with numbers kept as
    // text, and stops there; JSON allows them (the validator's invalid_number).
    if (error == rapidjson::kParseErrorNumberTooBig) continue;
    if (accepted && has_low_surrogate_escape(record)) continue;
    const auto result = check_one(record);
    bool malformed = false;
    for (const Reason& reason : result.verdict.reasons)
      malformed |= reason.code == ReasonCode::malformed_json;
    RC_ASSERT(malformed == !accepted);
    if (accepted && result.verdict.valid) {
      rapidjson::Document item;
      item.Parse<kParseFlags>(result.verdict.item_json.data(), result.verdict.item_json.size());
      RC_ASSERT(!item.HasParseError());
    }
  }
}

TEST(ItemEncoding, KeyAndMetadataAttributes) {
  Provenance provenance = testing::test_provenance();
  provenance.version_id = "3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY";
  RecordValidator validator(Rules::defaults());
  const std::string text = R"({"order-info":{"OrderId":"A-1"},"contact-info":{"email":"x"}})";
  const Verdict& verdict = validator.check(RawRecord{text, 41, 0, 42}, provenance);
  ASSERT_TRUE(verdict.valid);
  rapidjson::Document item;
  item.Parse(verdict.item_json.data(), verdict.item_json.size());
  ASSERT_FALSE(item.HasParseError());
  EXPECT_STREQ(item["OrderId"]["S"].GetString(), "A-1");
  EXPECT_STREQ(item["_source"]["S"].GetString(), "s3://sales-bucket/incoming/2024/orders.jsonl");
  EXPECT_EQ(std::string(item["_etag"]["S"].GetString()), provenance.etag);
  EXPECT_EQ(std::string(item["_version_id"]["S"].GetString()), provenance.version_id);
  EXPECT_STREQ(item["_record_index"]["N"].GetString(), "41");
  EXPECT_STREQ(item["_ingested_at"]["S"].GetString(), "2024-05-01T12:00:00Z");
}

TEST(ItemEncoding, VersionIdIsOmittedWhenUnversioned) {
  const auto result = check_one(R"({"order-info":{"OrderId":"A"},"contact-info":{"email":"x"}})");
  EXPECT_EQ(result.verdict.item_json.find("_version_id"), std::string::npos);
}

TEST(ItemSize, FollowsDynamoSizeRules) {
  const auto result = check_one(
      R"({"order-info":{"OrderId":"A","n":123},"contact-info":{"email":"x","l":[true,null,"ab"]}})");
  ASSERT_TRUE(result.verdict.valid);
  const Provenance provenance = testing::test_provenance();
  const std::size_t source =
      std::strlen("s3://") + provenance.bucket.size() + 1 + provenance.key.size();
  // map: 3 + per member (name + value + 1); list: 3 + per element (value + 1);
  // number 123: 3 significant digits -> 1 + 2 bytes.
  const std::size_t order_info = 10 + 3 + (7 + 1 + 1) + (1 + 3 + 1);
  const std::size_t contact_info =
      12 + 3 + (5 + 1 + 1) + (1 + (3 + (1 + 1) + (1 + 1) + (2 + 1)) + 1);
  const std::size_t metadata = (7 + 1) + (7 + source) + (5 + provenance.etag.size()) + (13 + 1) +
                               (12 + provenance.ingested_at.size());
  EXPECT_EQ(result.verdict.item_size, order_info + contact_info + metadata);
}

TEST(ItemSize, BoundaryAtFourHundredKilobytes) {
  const std::string prefix =
      R"({"order-info":{"OrderId":"A"},"contact-info":{"email":"x"},"pad":")";
  const auto size_with = [&](std::size_t pad) {
    return check_one(prefix + std::string(pad, 'p') + "\"}").verdict.item_size;
  };
  const std::size_t base = size_with(0);
  const std::size_t fits = kDynamoMaxItemBytes - base;
  const auto at_limit = check_one(prefix + std::string(fits, 'p') + "\"}");
  EXPECT_TRUE(at_limit.verdict.valid) << reasons_text(at_limit.verdict);
  EXPECT_EQ(at_limit.verdict.item_size, kDynamoMaxItemBytes);
  const auto over = check_one(prefix + std::string(fits + 1, 'p') + "\"}");
  EXPECT_EQ(testing::codes(over.verdict), std::vector{ReasonCode::too_large});
  EXPECT_TRUE(over.verdict.item_json.empty());
}

TEST(ItemSize, PartitionKeyLongerThan2048BytesIsTooLarge) {
  const auto make = [](std::size_t length) {
    return R"({"order-info":{"OrderId":")" + std::string(length, 'k') +
           R"("},"contact-info":{"email":"x"}})";
  };
  EXPECT_TRUE(check_one(make(2048)).verdict.valid);
  EXPECT_EQ(testing::codes(check_one(make(2049)).verdict), std::vector{ReasonCode::too_large});
}

}  // namespace
}  // namespace salesflow::core
