#include "base/fatal.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "base/json_string.hpp"
#include "base/time.hpp"

namespace salesflow::base {
namespace {

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
  std::string line = R"({"ts":)";
  append_json_string(line, iso8601_utc_ms(std::chrono::system_clock::now()));
  line +=
      R"(,"level":"fatal","msg":"an unexpected error ends the process; work not yet durable is redone","where":)";
  append_json_string(line, where);
  line += R"(,"error":)";
  append_json_string(line, describe(error));
  line += '}';
  return line;
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
