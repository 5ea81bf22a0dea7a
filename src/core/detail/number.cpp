#include "core/detail/number.hpp"

namespace salesflow::core {
namespace {

bool is_digit(char c) noexcept {
  return c >= '0' && c <= '9';
}

}  // namespace

NumberInfo analyze_number(std::string_view text) noexcept {
  NumberInfo info;
  const char* p = text.data();
  const char* const end = p + text.size();
  if (p < end && *p == '-') {
    info.negative = true;
    ++p;
  }
  // The coefficient's digits are the integer part then the fraction part;
  // each part is found with one tight loop, and the significant digits from
  // its ends, rather than bookkeeping per digit.
  const char* const integer_begin = p;
  if (p >= end || !is_digit(*p)) return info;
  if (*p == '0') {
    ++p;
  } else {
    while (p < end && is_digit(*p)) ++p;
  }
  const char* const integer_end = p;
  const char* fraction_begin = p;
  const char* fraction_end = p;
  bool has_fraction = false;
  if (p < end && *p == '.') {
    fraction_begin = ++p;
    if (p >= end || !is_digit(*p)) return info;
    while (p < end && is_digit(*p)) ++p;
    fraction_end = p;
    has_fraction = true;
  }
  bool has_exponent = false;
  std::int64_t exponent_value = 0;
  if (p < end && (*p == 'e' || *p == 'E')) {
    ++p;
    bool exponent_negative = false;
    if (p < end && (*p == '+' || *p == '-')) exponent_negative = *p++ == '-';
    if (p >= end || !is_digit(*p)) return info;
    has_exponent = true;
    constexpr std::int64_t kSaturation = 1'000'000'000'000LL;
    while (p < end && is_digit(*p)) {
      if (exponent_value < kSaturation) exponent_value = exponent_value * 10 + (*p - '0');
      ++p;
    }
    if (exponent_negative) exponent_value = -exponent_value;
  }
  if (p != end) return info;
  const std::int64_t integer_digits = integer_end - integer_begin;
  // Positions among the coefficient's digits (integer part first).
  std::int64_t first_nonzero = -1;
  for (const char* d = integer_begin; d < integer_end && first_nonzero < 0; ++d)
    if (*d != '0') first_nonzero = d - integer_begin;
  for (const char* d = fraction_begin; d < fraction_end && first_nonzero < 0; ++d)
    if (*d != '0') first_nonzero = integer_digits + (d - fraction_begin);
  std::int64_t last_nonzero = -1;
  for (const char* d = fraction_end; d > fraction_begin && last_nonzero < 0; --d)
    if (d[-1] != '0') last_nonzero = integer_digits + (d - 1 - fraction_begin);
  for (const char* d = integer_end; d > integer_begin && last_nonzero < 0; --d)
    if (d[-1] != '0') last_nonzero = d - 1 - integer_begin;
  info.well_formed = true;
  info.integer = !has_fraction && !has_exponent;
  if (first_nonzero < 0) {
    info.zero = true;
    info.dynamodb_storable = true;
    info.dynamodb_size = 1;
    return info;
  }
  info.significant_digits = static_cast<int>(last_nonzero - first_nonzero + 1 > 1'000'000'000
                                                 ? 1'000'000'000
                                                 : last_nonzero - first_nonzero + 1);
  info.exponent = (integer_digits - 1 - first_nonzero) + exponent_value;
  info.dynamodb_storable = info.significant_digits <= kDynamoMaxSignificantDigits &&
                           info.exponent >= kDynamoMinExponent &&
                           info.exponent <= kDynamoMaxExponent;
  // DynamoDB stores base-100 digit pairs aligned on an even exponent: an even
  // digit count starting on an even exponent spills into one more pair.
  const auto digits = static_cast<std::size_t>(info.significant_digits);
  const bool extra_pair = digits % 2 == 0 && info.exponent % 2 == 0;
  info.dynamodb_size = 1 + (digits + 1) / 2 + (extra_pair ? 1 : 0) + (info.negative ? 1 : 0);
  return info;
}

}  // namespace salesflow::core
