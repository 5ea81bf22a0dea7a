// ISO 8601 timestamps: both forms, the truncation, and times before 1970.
#include "base/time.hpp"

#include <gtest/gtest.h>

namespace salesflow::base {
namespace {

using namespace std::chrono_literals;
using std::chrono::sys_days;

TEST(Time, ExtendedFormWithMilliseconds) {
  EXPECT_EQ(iso8601_utc_ms(std::int64_t{0}), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(iso8601_utc_ms(std::int64_t{1764077127026}), "2025-11-25T13:25:27.026Z");
  EXPECT_EQ(iso8601_utc_ms(std::int64_t{-1}), "1969-12-31T23:59:59.999Z");
  EXPECT_EQ(iso8601_utc_ms(sys_days(std::chrono::year(2024) / 2 / 29) + 23h + 59min + 59s + 999ms +
                           999us),
            "2024-02-29T23:59:59.999Z");
}

TEST(Time, BasicFormTruncatedToTheSecond) {
  EXPECT_EQ(iso8601_basic_utc(sys_days(std::chrono::year(2015) / 8 / 30) + 12h + 36min),
            "20150830T123600Z");
  EXPECT_EQ(
      iso8601_basic_utc(sys_days(std::chrono::year(1999) / 12 / 31) + 23h + 59min + 59s + 999ms),
      "19991231T235959Z");
}

TEST(Time, AgreesWithItselfAcrossForms) {
  const auto now = std::chrono::system_clock::now();
  const std::string extended = iso8601_utc_ms(now);
  const std::string basic = iso8601_basic_utc(now);
  ASSERT_EQ(extended.size(), 24u);
  ASSERT_EQ(basic.size(), 16u);
  EXPECT_EQ(basic.substr(0, 4), extended.substr(0, 4));
  EXPECT_EQ(basic.substr(4, 2), extended.substr(5, 2));
  EXPECT_EQ(basic.substr(6, 2), extended.substr(8, 2));
  EXPECT_EQ(basic.substr(9, 2), extended.substr(11, 2));
  EXPECT_EQ(basic.substr(11, 2), extended.substr(14, 2));
  EXPECT_EQ(basic.substr(13, 2), extended.substr(17, 2));
}

}  // namespace
}  // namespace salesflow::base
