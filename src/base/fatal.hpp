#pragma once
// The last word of a process that cannot go on: an exception escaped an entry
// point (main, or a thread's loop; a bad_alloc, say). Ends the process with
// one JSON line on stderr naming where and what, instead of std::terminate's
// silence. Nothing is lost by ending: whatever was not durable is redone from
// the ledger's checkpoint by the next run.
//
// The bottom layer: both src/core and src/aws may use it; it uses only the
// standard library and the rest of base (JSON strings, timestamps).

#include <exception>
#include <string_view>

namespace salesflow::base {

// The exit status after a fatal error (EX_SOFTWARE of sysexits.h).
inline constexpr int kExitFatal = 70;

// The JSON line the process ends with: {"ts","level":"fatal","msg","where","error"}.
[[nodiscard]] std::string fatal_line(std::string_view where, const std::exception_ptr& error);

// Writes fatal_line to stderr and ends the process at once with kExitFatal
// (std::_Exit: other threads may still be running, so no destructor runs).
[[noreturn]] void die(std::string_view where, const std::exception_ptr& error) noexcept;

// Runs `body`; an exception that escapes it ends the process through die().
// For the entry points of threads.
template <class Body>
void run_or_die(std::string_view where, Body&& body) noexcept {
  try {
    body();
  } catch (...) {
    die(where, std::current_exception());
  }
}

}  // namespace salesflow::base
