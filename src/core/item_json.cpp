#include "core/item_json.hpp"

#include <charconv>

namespace salesflow::core {

void append_decimal(std::string& out, unsigned long long value) {
  char buffer[24];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
  out.append(buffer, result.ptr);
}

}  // namespace salesflow::core
