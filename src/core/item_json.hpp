#pragma once
// What the DynamoDB item encoder and the DLQ envelope share besides JSON string
// escaping (base/json_string.hpp) and UTF-8 repair (base/utf8.hpp): DynamoDB's
// item size constants and decimal text. Cost: constants, and one to_chars.

#include <cstddef>
#include <string>
#include <string_view>

namespace salesflow::core {

// DynamoDB's maximum item size (400 KB), in the bytes its size rules count.
inline constexpr std::size_t kDynamoMaxItemBytes = 400 * 1024;
// DynamoDB allows documents nested at most 32 levels deep.
inline constexpr int kDynamoMaxNestingDepth = 32;
// Key attribute value limits: partition key 2048 bytes, sort key 1024 bytes.
inline constexpr std::size_t kDynamoMaxPartitionKeyBytes = 2048;
inline constexpr std::size_t kDynamoMaxSortKeyBytes = 1024;

// Appends the decimal text of `value`.
void append_decimal(std::string& out, unsigned long long value);

}  // namespace salesflow::core
