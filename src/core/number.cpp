#include "core/number.hpp"

namespace salesflow::core {
namespace {

bool is_digit(char c) noexcept {
  return c >= '0' && c <= '9';
}

}  // namespace

NumberInfo analyze_number(std::string_view text) noexcept {
  NumberInfo info;
  std::size_t i = 0;
  const std::size_t n = text.size();
  if (i < n && text[i] == '-') {
    info.negative = true;
    ++i;
  }
  // Digits of the coefficient (integer part then fraction part) are numbered
  // 0.. in order; remember the first and last non-zero ones.
  std::int64_t digit_count = 0;
  std::int64_t first_nonzero = -1;
  std::int64_t last_nonzero = -1;
  const auto take_digit = [&](char c) {
    if (c != '0') {
      if (first_nonzero < 0) first_nonzero = digit_count;
      last_nonzero = digit_count;
    }
    ++digit_count;
  };
  if (i >= n || !is_digit(text[i])) return info;
  if (text[i] == '0') {
    take_digit('0');
    ++i;
  } else {
    while (i < n && is_digit(text[i])) take_digit(text[i++]);
  }
  const std::int64_t integer_digits = digit_count;
  bool has_fraction = false;
  if (i < n && text[i] == '.') {
    ++i;
    if (i >= n || !is_digit(text[i])) return info;
    has_fraction = true;
    while (i < n && is_digit(text[i])) take_digit(text[i++]);
  }
  bool has_exponent = false;
  std::int64_t exponent_value = 0;
  if (i < n && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    bool exponent_negative = false;
    if (i < n && (text[i] == '+' || text[i] == '-')) exponent_negative = text[i++] == '-';
    if (i >= n || !is_digit(text[i])) return info;
    has_exponent = true;
    constexpr std::int64_t kSaturation = 1'000'000'000'000LL;
    while (i < n && is_digit(text[i])) {
      if (exponent_value < kSaturation) exponent_value = exponent_value * 10 + (text[i] - '0');
      ++i;
    }
    if (exponent_negative) exponent_value = -exponent_value;
  }
  if (i != n) return info;
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
