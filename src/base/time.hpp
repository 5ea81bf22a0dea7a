#pragma once
// ISO 8601 UTC timestamps: the extended form with milliseconds of log lines,
// ledger entries and items' ingestion time, and the basic form of SigV4's
// X-Amz-Date.
//
// Cost: civil-time arithmetic of std::chrono (no gmtime, no locale, no lock)
// and one fmt call with a compiled format string: ~0.1 µs and one allocation
// per timestamp (bench/README.md).

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
