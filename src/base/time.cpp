#include "base/time.hpp"

#include <fmt/compile.h>
#include <fmt/format.h>

namespace salesflow::base {
namespace {

// The calendar fields of a UTC time.
struct Civil {
  int year;
  unsigned month, day;
  long hours, minutes, seconds, millis;
};

template <class Duration>
Civil civil(std::chrono::sys_time<Duration> time) {
  using namespace std::chrono;
  const auto day = floor<days>(time);
  const year_month_day ymd(day);
  const hh_mm_ss hms(floor<milliseconds>(time - day));
  return Civil{static_cast<int>(ymd.year()),
               static_cast<unsigned>(ymd.month()),
               static_cast<unsigned>(ymd.day()),
               static_cast<long>(hms.hours().count()),
               static_cast<long>(hms.minutes().count()),
               static_cast<long>(hms.seconds().count()),
               static_cast<long>(hms.subseconds().count())};
}

}  // namespace

std::string iso8601_utc_ms(std::int64_t unix_ms) {
  const Civil c =
      civil(std::chrono::sys_time<std::chrono::milliseconds>(std::chrono::milliseconds(unix_ms)));
  return fmt::format(FMT_COMPILE("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z"), c.year, c.month,
                     c.day, c.hours, c.minutes, c.seconds, c.millis);
}

std::string iso8601_utc_ms(std::chrono::system_clock::time_point time) {
  return iso8601_utc_ms(
      std::chrono::floor<std::chrono::milliseconds>(time).time_since_epoch().count());
}

std::string iso8601_basic_utc(std::chrono::system_clock::time_point time) {
  const Civil c = civil(std::chrono::floor<std::chrono::seconds>(time));
  return fmt::format(FMT_COMPILE("{:04}{:02}{:02}T{:02}{:02}{:02}Z"), c.year, c.month, c.day,
                     c.hours, c.minutes, c.seconds);
}

}  // namespace salesflow::base
