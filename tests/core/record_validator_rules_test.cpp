// The default completeness rules and every reason code the validator produces.
#include <gtest/gtest.h>

#include "validator_test_support.hpp"

namespace salesflow::core {
namespace {

using testing::check_one;
using testing::codes;
using testing::has_reason;
using testing::reasons_text;

constexpr std::string_view kComplete =
    R"({"order-info":{"OrderId":"A-1","total":12.5},"contact-info":{"email":"a@b.c"}})";

TEST(DefaultRules, CompleteRecordIsWritten) {
  const auto result = check_one(std::string(kComplete));
  EXPECT_EQ(result.disposition, Disposition::write) << reasons_text(result.verdict);
  EXPECT_TRUE(result.verdict.valid);
  EXPECT_EQ(result.verdict.partition_key, "A-1");
}

TEST(DefaultRules, PhoneAloneIsEnough) {
  const auto result =
      check_one(R"({"order-info":{"OrderId":"A"},"contact-info":{"phone":"+1 555"}})");
  EXPECT_TRUE(result.verdict.valid) << reasons_text(result.verdict);
}

TEST(DefaultRules, EmptyEmailIsExcusedWhenPhoneIsValid) {
  const auto result =
      check_one(R"({"order-info":{"OrderId":"A"},"contact-info":{"email":" ","phone":"5"}})");
  EXPECT_TRUE(result.verdict.valid) << reasons_text(result.verdict);
}

TEST(DefaultRules, IntegerOrderIdIsStoredAsDecimalText) {
  const auto result = check_one(R"({"order-info":{"OrderId":12345},"contact-info":{"email":"x"}})");
  ASSERT_TRUE(result.verdict.valid) << reasons_text(result.verdict);
  EXPECT_EQ(result.verdict.partition_key, "12345");
  EXPECT_NE(result.verdict.item_json.find(R"("OrderId":{"S":"12345"})"), std::string::npos);
}

TEST(DefaultRules, FractionOrExponentOrderIdIsWrongType) {
  for (const char* id : {"12.5", "1e3", "1E+2", "-0.0"}) {
    const auto result = check_one(std::string(R"({"order-info":{"OrderId":)") + id +
                                  R"(},"contact-info":{"email":"x"}})");
    EXPECT_EQ(codes(result.verdict), std::vector{ReasonCode::wrong_type}) << id;
    EXPECT_TRUE(has_reason(result.verdict, ReasonCode::wrong_type, "/order-info/OrderId"));
  }
}

TEST(DefaultRules, MissingMembersAreReported) {
  const auto result = check_one(R"({"other":1})");
  EXPECT_EQ(result.disposition, Disposition::reject);
  EXPECT_TRUE(has_reason(result.verdict, ReasonCode::missing, "/order-info"));
  EXPECT_TRUE(has_reason(result.verdict, ReasonCode::missing, "/contact-info"));
  EXPECT_EQ(result.verdict.reasons.size(), 2u) << reasons_text(result.verdict);
}

TEST(DefaultRules, MissingOrderIdAndContactMembers) {
  const auto result = check_one(R"({"order-info":{},"contact-info":{}})");
  EXPECT_TRUE(has_reason(result.verdict, ReasonCode::missing, "/order-info/OrderId"));
  EXPECT_TRUE(has_reason(result.verdict, ReasonCode::missing, "/contact-info"));
  EXPECT_EQ(result.verdict.reasons.size(), 2u) << reasons_text(result.verdict);
}

TEST(DefaultRules, NullIsWrongType) {
  const auto result = check_one(R"({"order-info":{"OrderId":null},"contact-info":null})");
  EXPECT_TRUE(has_reason(result.verdict, ReasonCode::wrong_type, "/order-info/OrderId"));
  EXPECT_TRUE(has_reason(result.verdict, ReasonCode::wrong_type, "/contact-info"));
  EXPECT_EQ(result.verdict.reasons.size(), 2u) << reasons_text(result.verdict);
}

TEST(DefaultRules, ParentOfWrongTypeIsReportedOnce) {
  const auto result = check_one(R"({"order-info":"A-1","contact-info":[1]})");
  EXPECT_EQ(codes(result.verdict), (std::vector{ReasonCode::wrong_type, ReasonCode::wrong_type}))
      << reasons_text(result.verdict);
  EXPECT_TRUE(has_reason(result.verdict, ReasonCode::wrong_type, "/order-info"));
  EXPECT_TRUE(has_reason(result.verdict, ReasonCode::wrong_type, "/contact-info"));
}

TEST(DefaultRules, WhitespaceOnlyStringsAreEmpty) {
  const auto result =
      check_one(R"({"order-info":{"OrderId":" \t\n "},"contact-info":{"email":"","phone":"  "}})");
  EXPECT_TRUE(has_reason(result.verdict, ReasonCode::empty, "/order-info/OrderId"));
  EXPECT_TRUE(has_reason(result.verdict, ReasonCode::empty, "/contact-info/email"));
  EXPECT_TRUE(has_reason(result.verdict, ReasonCode::empty, "/contact-info/phone"));
  EXPECT_TRUE(has_reason(result.verdict, ReasonCode::missing, "/contact-info"));
}

TEST(DefaultRules, MemberNamesAreComparedUnescaped) {
  const auto result =
      check_one(R"({"order\u002dinfo":{"Order\u0049d":"A"},"contact-info":{"\u0065mail":"x@y"}})");
  EXPECT_TRUE(result.verdict.valid) << reasons_text(result.verdict);
  EXPECT_NE(result.verdict.item_json.find(R"("order-info":{"M":{"OrderId":{"S":"A"}}})"),
            std::string::npos)
      << result.verdict.item_json;
}

TEST(DefaultRules, NonObjectRecordIsWrongType) {
  for (const char* text : {"[1,2]", "\"text\"", "42", "true", "null"}) {
    const auto result = check_one(text);
    EXPECT_EQ(codes(result.verdict), std::vector{ReasonCode::wrong_type}) << text;
  }
}

TEST(MalformedJson, SyntaxErrorsAreMalformed) {
  for (const char* text : {"{", "{\"a\":}", "{\"a\":1,}", "{\"a\":tru}", "{\"a\":12ab}",
                           "{\"a\":1} x", "{\"a\":\"\\q\"}", "{\"a\":\"\\ud800\"}", "", "[1,",
                           "{\"a\":01}", "{\"a\":-}", "{\"a\":1.}", "nul", "{\"a\":[1 2]}"}) {
    const auto result = check_one(text);
    ASSERT_FALSE(result.verdict.reasons.empty()) << text;
    EXPECT_EQ(result.verdict.reasons.back().code, ReasonCode::malformed_json)
        << text << "\n"
        << reasons_text(result.verdict);
    EXPECT_EQ(result.disposition, Disposition::reject);
  }
}

TEST(MalformedJson, InvalidUtf8IsMalformed) {
  const std::string text = std::string(R"({"order-info":{"OrderId":"A)") + "\xC3\x28" +
                           R"("},"contact-info":{"email":"x"}})";
  const auto result = check_one(text);
  EXPECT_EQ(codes(result.verdict), std::vector{ReasonCode::malformed_json});
}

TEST(InvalidNumber, DigitLimits) {
  const std::string ok38(38, '7');
  const std::string bad39(39, '7');
  const auto make = [](const std::string& number) {
    return R"({"order-info":{"OrderId":"A","q":)" + number + R"(},"contact-info":{"email":"x"}})";
  };
  EXPECT_TRUE(check_one(make(ok38)).verdict.valid);
  const auto result = check_one(make(bad39));
  EXPECT_EQ(codes(result.verdict), std::vector{ReasonCode::invalid_number});
  EXPECT_TRUE(has_reason(result.verdict, ReasonCode::invalid_number, "/order-info/q"));
  EXPECT_TRUE(check_one(make("1E-130")).verdict.valid);
  EXPECT_FALSE(check_one(make("1E-131")).verdict.valid);
  EXPECT_TRUE(check_one(make("9.99E+125")).verdict.valid);
  EXPECT_TRUE(check_one(make("-9.9999999999999999999999999999999999999E+125")).verdict.valid);
  EXPECT_FALSE(check_one(make("1E+126")).verdict.valid);
  EXPECT_FALSE(check_one(make("-1E+126")).verdict.valid);
  EXPECT_TRUE(check_one(make("0.000e-999")).verdict.valid);  // zero has no magnitude
}

TEST(ItemEncoding, BigNumbersKeepTheirExactText) {
  const auto result = check_one(
      R"({"order-info":{"OrderId":"A","quantity":12345678901234567890123,"price":0.1000000000000000055511151231257827},"contact-info":{"email":"x"}})");
  ASSERT_TRUE(result.verdict.valid) << reasons_text(result.verdict);
  EXPECT_NE(result.verdict.item_json.find(R"("quantity":{"N":"12345678901234567890123"})"),
            std::string::npos);
  EXPECT_NE(
      result.verdict.item_json.find(R"("price":{"N":"0.1000000000000000055511151231257827"})"),
      std::string::npos);
}

TEST(DuplicateMember, FoundAtAnyDepth) {
  const auto result = check_one(
      R"({"order-info":{"OrderId":"A","x":{"deep":[{"k":1,"k":2}]}},"contact-info":{"email":"x"},"contact-info":{"email":"y"}})");
  EXPECT_TRUE(has_reason(result.verdict, ReasonCode::duplicate_member, "/order-info/x/deep/0/k"))
      << reasons_text(result.verdict);
  EXPECT_TRUE(has_reason(result.verdict, ReasonCode::duplicate_member, "/contact-info"));
  EXPECT_EQ(result.verdict.reasons.size(), 2u) << reasons_text(result.verdict);
}

TEST(DuplicateMember, EscapedSpellingsAreTheSameName) {
  const auto result =
      check_one(R"({"order-info":{"OrderId":"A"},"contact-info":{"email":"x","em\u0061il":"y"}})");
  EXPECT_EQ(codes(result.verdict), std::vector{ReasonCode::duplicate_member});
}

TEST(DuplicateMember, LargeObjectsAreChecked) {
  std::string text = R"({"order-info":{"OrderId":"A")";
  for (int i = 0; i < 200; ++i) text += ",\"m" + std::to_string(i % 150) + "\":1";
  text += R"(},"contact-info":{"email":"x"}})";
  const auto result = check_one(text);
  EXPECT_EQ(result.verdict.reasons.size(), 50u);
  EXPECT_TRUE(has_reason(result.verdict, ReasonCode::duplicate_member, "/order-info/m0"));
}

TEST(MetadataCollision, TopLevelMemberWithAReservedNameIsRejected) {
  for (const char* name : {"OrderId", "_source", "_etag", "_version_id", "_record_index",
                           "_ingested_at", "_corrected_at"}) {
    const auto result =
        check_one(std::string(R"({"order-info":{"OrderId":"A"},"contact-info":{"email":"x"},")") +
                  name + R"(":1})");
    EXPECT_EQ(codes(result.verdict), std::vector{ReasonCode::invalid_format}) << name;
    EXPECT_TRUE(has_reason(result.verdict, ReasonCode::invalid_format, std::string("/") + name));
  }
  // The same names below the top level are ordinary members.
  EXPECT_TRUE(
      check_one(R"({"order-info":{"OrderId":"A","_source":1},"contact-info":{"email":"x"}})")
          .verdict.valid);
}

TEST(TooLarge, ItemOverDynamoLimitIsRejected) {
  // A 400 KB string value alone exceeds the limit once names and metadata are added.
  const std::string big(400 * 1024, 'x');
  const auto result = check_one(
      R"({"order-info":{"OrderId":"A"},"contact-info":{"email":"x"},"n":")" + big + "\"}");
  EXPECT_EQ(codes(result.verdict), std::vector{ReasonCode::too_large});
}

TEST(TooLarge, NestingDeeperThan32LevelsIsRejected) {
  const auto make = [](int levels) {
    std::string text = R"({"order-info":{"OrderId":"A"},"contact-info":{"email":"x"},"n":)";
    for (int i = 1; i < levels; ++i) text += "[";
    text += "{}";
    for (int i = 1; i < levels; ++i) text += "]";
    return text + "}";
  };
  EXPECT_TRUE(check_one(make(32)).verdict.valid);
  const auto result = check_one(make(33));
  EXPECT_EQ(codes(result.verdict), std::vector{ReasonCode::too_large});
}

TEST(AllReasons, EveryReasonIsReportedNotOnlyTheFirst) {
  const auto result = check_one(
      R"({"order-info":{"OrderId":"","q":1E+999,"a":1,"a":2},"contact-info":{"email":5},"_etag":"e"})");
  const auto found = codes(result.verdict);
  for (const ReasonCode code :
       {ReasonCode::empty, ReasonCode::invalid_number, ReasonCode::duplicate_member,
        ReasonCode::invalid_format, ReasonCode::wrong_type, ReasonCode::missing}) {
    EXPECT_NE(std::find(found.begin(), found.end(), code), found.end())
        << to_string(code) << "\n"
        << reasons_text(result.verdict);
  }
}

TEST(AllReasons, ReasonCountIsBounded) {
  Rules rules = Rules::defaults();
  rules.max_reasons = 3;
  std::string text = R"({"order-info":{"OrderId":"A")";
  for (int i = 0; i < 10; ++i) text += R"(,"d":1)";
  text += R"(},"contact-info":{"email":"x"},"e":[1E+999,1E+999,1E+999,1E+999]})";
  const auto result = testing::check_one(rules, text);
  ASSERT_EQ(result.verdict.reasons.size(), 4u) << reasons_text(result.verdict);
  EXPECT_EQ(result.verdict.reasons.back().message, "2 more reasons not listed");
}

TEST(ReasonCode, NamesAreStable) {
  EXPECT_EQ(to_string(ReasonCode::missing), "missing");
  EXPECT_EQ(to_string(ReasonCode::wrong_type), "wrong_type");
  EXPECT_EQ(to_string(ReasonCode::empty), "empty");
  EXPECT_EQ(to_string(ReasonCode::invalid_format), "invalid_format");
  EXPECT_EQ(to_string(ReasonCode::malformed_json), "malformed_json");
  EXPECT_EQ(to_string(ReasonCode::invalid_number), "invalid_number");
  EXPECT_EQ(to_string(ReasonCode::too_large), "too_large");
  EXPECT_EQ(to_string(ReasonCode::duplicate_member), "duplicate_member");
  EXPECT_EQ(to_string(ReasonCode::duplicate_key), "duplicate_key");
}

}  // namespace
}  // namespace salesflow::core

namespace salesflow::core {
namespace {

TEST(MalformedJson, ScalarRecordWithTrailingContent) {
  EXPECT_EQ(testing::codes(testing::check_one("42 43").verdict),
            std::vector{ReasonCode::malformed_json});
}

}  // namespace
}  // namespace salesflow::core
