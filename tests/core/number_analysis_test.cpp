// Exact number analysis against DynamoDB's limits and size rules.
#include <gtest/gtest.h>

#include "core/detail/number.hpp"

namespace salesflow::core {
namespace {

TEST(NumberAnalysis, Grammar) {
  for (const char* good : {"0", "-0", "1", "-12.50", "1e5", "1E+5", "1e-5", "0.0", "10"})
    EXPECT_TRUE(analyze_number(good).well_formed) << good;
  for (const char* bad : {"", "-", "01", "1.", ".5", "1e", "1e+", "+1", "1x", "0x10", "NaN",
                          "Infinity", "--1", "1.2.3"})
    EXPECT_FALSE(analyze_number(bad).well_formed) << bad;
}

TEST(NumberAnalysis, IntegerMeansNoFractionNoExponent) {
  EXPECT_TRUE(analyze_number("-42").integer);
  EXPECT_FALSE(analyze_number("42.0").integer);
  EXPECT_FALSE(analyze_number("42e0").integer);
}

TEST(NumberAnalysis, SignificantDigitsIgnoreLeadingAndTrailingZeros) {
  EXPECT_EQ(analyze_number("1000").significant_digits, 1);
  EXPECT_EQ(analyze_number("0.00120").significant_digits, 2);
  EXPECT_EQ(analyze_number("10.01").significant_digits, 4);
  EXPECT_TRUE(analyze_number("0.000").zero);
  EXPECT_EQ(analyze_number("0.00120").exponent, -3);
  EXPECT_EQ(analyze_number("123.4").exponent, 2);
  EXPECT_EQ(analyze_number("1.5e10").exponent, 10);
}

TEST(NumberAnalysis, DynamoLimits) {
  EXPECT_TRUE(analyze_number(std::string(38, '9')).dynamodb_storable);
  EXPECT_FALSE(analyze_number(std::string(39, '9')).dynamodb_storable);
  EXPECT_TRUE(analyze_number("1" + std::string(125, '0')).dynamodb_storable);  // 1E+125, 1 digit
  EXPECT_FALSE(analyze_number("1" + std::string(126, '0')).dynamodb_storable);
  EXPECT_TRUE(analyze_number("1E-130").dynamodb_storable);
  EXPECT_FALSE(analyze_number("1E-131").dynamodb_storable);
  EXPECT_FALSE(analyze_number("0.1E-130").dynamodb_storable);
  EXPECT_TRUE(analyze_number("10E-131").dynamodb_storable);
  EXPECT_TRUE(analyze_number("9.9999999999999999999999999999999999999E+125").dynamodb_storable);
  EXPECT_FALSE(analyze_number("1E+126").dynamodb_storable);
  EXPECT_FALSE(analyze_number("1e99999999999999999999999").dynamodb_storable);
  EXPECT_TRUE(analyze_number("0e99999999999999999999999").dynamodb_storable);
}

TEST(NumberAnalysis, SizeFollowsDynamoEncoding) {
  EXPECT_EQ(analyze_number("0").dynamodb_size, 1u);
  EXPECT_EQ(analyze_number("1").dynamodb_size, 2u);    // one digit pair + header
  EXPECT_EQ(analyze_number("123").dynamodb_size, 3u);  // 2 pairs + header
  EXPECT_EQ(analyze_number("12").dynamodb_size, 2u);   // exponent 1: one pair
  EXPECT_EQ(analyze_number("1.2").dynamodb_size, 3u);  // exponent 0: digits straddle two pairs
  EXPECT_EQ(analyze_number("-12").dynamodb_size, 3u);  // negative adds a byte
  EXPECT_EQ(analyze_number(std::string(38, '9')).dynamodb_size, 20u);  // exponent 37: 19 pairs
}

}  // namespace
}  // namespace salesflow::core
