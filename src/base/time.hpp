#pragma once
// ISO 8601 UTC timestamps: the extended form with milliseconds of log lines,
// ledger entries and items' ingestion time, and the basic form of SigV4's
// X-Amz-Date.
//
// Cost: std::chrono's civil-time arithmetic (no gmtime, no locale, no lock),
// fixed-width digits and one allocation: ~60 ns per timestamp. Not fmt: its
// formatting cost 4-7x that, on SigV4's per-request path (bench/README.md).
// Years 0-9999 only (four digits).

#include <chrono>
#include <cstdint>
#include <string>

namespace salesflow::base {

// "2026-11-25T13:25:27.026Z" for a time in milliseconds since the epoch
// (negative ones before 1970 too).
[[nodiscard]] std::string iso8601_utc_ms(std::int64_t unix_ms);
// The same for a time point, truncated towards the past to the millisecond.
[[nodiscard]] std::string iso8601_utc_ms(std::chrono::system_clock::time_point time);

// "20261125T132527Z": the basic form, truncated to the second (SigV4's
// X-Amz-Date; its first 8 characters are the credential scope's date).
[[nodiscard]] std::string iso8601_basic_utc(std::chrono::system_clock::time_point time);

}  // namespace salesflow::base
