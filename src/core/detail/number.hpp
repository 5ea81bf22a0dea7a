#pragma once
// Exact analysis of a JSON number token as DynamoDB sees it. Works on the
// decimal text only: no conversion to double, so nothing is rounded.

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace salesflow::core {

// DynamoDB's documented number limits: 38 significant digits; magnitude
// 1E-130 .. 9.9999999999999999999999999999999999999E+125 (and zero).
inline constexpr int kDynamoMaxSignificantDigits = 38;
inline constexpr std::int64_t kDynamoMinExponent = -130;
inline constexpr std::int64_t kDynamoMaxExponent = 125;

struct NumberInfo {
  bool well_formed = false;  // matches the JSON number grammar exactly
  bool integer = false;      // no fraction part and no exponent part
  bool negative = false;
  bool zero = false;
  int significant_digits = 0;  // leading and trailing zeros trimmed; 0 for zero
  // Decimal exponent of the most significant digit: value = d.ddd x 10^exponent.
  // Saturates far beyond DynamoDB's range for absurd exponents.
  std::int64_t exponent = 0;
  bool dynamodb_storable = false;  // well formed and within DynamoDB's limits
  // Bytes DynamoDB counts for the value (without attribute name): one byte per
  // two significant digits, one byte of header, plus the sign and exponent
  // alignment bytes DynamoDB's internal encoding adds.
  std::size_t dynamodb_size = 0;
};

// One pass over `text`; O(text.size()), no allocation.
NumberInfo analyze_number(std::string_view text) noexcept;

}  // namespace salesflow::core
