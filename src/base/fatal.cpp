#include "base/fatal.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace salesflow::base {
namespace {

// JSON string contents: quotes, backslashes and control characters escaped.
std::string json_escaped(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (byte < 0x20) {
      out += fmt::format("\\u{:04x}", byte);
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string describe(const std::exception_ptr& error) {
  if (!error) return "no exception";
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
    return "an exception of unknown type";  // described, and the process ends
  }
}

}  // namespace

std::string fatal_line(std::string_view where, const std::exception_ptr& error) {
  const auto now =
      std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
  return fmt::format(R"({{"ts":"{:%FT%T}Z","level":"fatal","msg":"{}","where":"{}","error":"{}"}})",
                     now, "an unexpected error ends the process; work not yet durable is redone",
                     json_escaped(where), json_escaped(describe(error)));
}

void die(std::string_view where, const std::exception_ptr& error) noexcept {
  try {
    const std::string line = fatal_line(where, error) + "\n";
    std::fwrite(line.data(), 1, line.size(), stderr);
  } catch (...) {
    std::fputs("{\"level\":\"fatal\",\"msg\":\"an unexpected error ends the process\"}\n", stderr);
  }
  std::fflush(stderr);
  std::_Exit(kExitFatal);
}

}  // namespace salesflow::base
