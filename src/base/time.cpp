#include "base/time.hpp"

namespace salesflow::base {
namespace {

// The calendar fields of a UTC time, by std::chrono's civil-time arithmetic.
struct Civil {
  unsigned year, month, day, hours, minutes, seconds, millis;
};

Civil civil(std::chrono::sys_time<std::chrono::milliseconds> time) {
  using namespace std::chrono;
  const auto day = floor<days>(time);
  const year_month_day ymd(day);
  const hh_mm_ss hms(time - day);
  return Civil{static_cast<unsigned>(static_cast<int>(ymd.year())),
               static_cast<unsigned>(ymd.month()),
               static_cast<unsigned>(ymd.day()),
               static_cast<unsigned>(hms.hours().count()),
               static_cast<unsigned>(hms.minutes().count()),
               static_cast<unsigned>(hms.seconds().count()),
               static_cast<unsigned>(hms.subseconds().count())};
}

// Writes `value` as exactly `width` decimal digits at `out`; returns the end.
// fmt::format_to with a compiled "{:04}{:02}..." costs 260-550 ns per
// timestamp here against 55-75 ns for this (bench/README.md), and SigV4
// formats one per request.
char* put(char* out, unsigned value, int width) {
  for (int i = width - 1; i >= 0; --i) {
    out[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
  return out + width;
}

// Writes "2026-11-25T13:25:27" (`extended`) or "20261125T132527" at `out`.
char* put_date_time(char* out, const Civil& c, bool extended) {
  out = put(out, c.year, 4);
  if (extended) *out++ = '-';
  out = put(out, c.month, 2);
  if (extended) *out++ = '-';
  out = put(out, c.day, 2);
  *out++ = 'T';
  out = put(out, c.hours, 2);
  if (extended) *out++ = ':';
  out = put(out, c.minutes, 2);
  if (extended) *out++ = ':';
  return put(out, c.seconds, 2);
}

}  // namespace

std::string iso8601_utc_ms(std::int64_t unix_ms) {
  const Civil c =
      civil(std::chrono::sys_time<std::chrono::milliseconds>(std::chrono::milliseconds(unix_ms)));
  std::string text(24, '\0');  // 2026-11-25T13:25:27.026Z
  char* out = put_date_time(text.data(), c, true);
  *out++ = '.';
  out = put(out, c.millis, 3);
  *out = 'Z';
  return text;
}

std::string iso8601_utc_ms(std::chrono::system_clock::time_point time) {
  return iso8601_utc_ms(
      std::chrono::floor<std::chrono::milliseconds>(time).time_since_epoch().count());
}

std::string iso8601_basic_utc(std::chrono::system_clock::time_point time) {
  const Civil c = civil(std::chrono::floor<std::chrono::seconds>(time));
  std::string text(16, '\0');  // 20261125T132527Z
  *put_date_time(text.data(), c, false) = 'Z';
  return text;
}

}  // namespace salesflow::base
