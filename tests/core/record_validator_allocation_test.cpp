// A valid record costs no heap allocation once the validator's buffers have
// grown: counted by replacing the global allocation functions in this binary.
#include <gtest/gtest.h>

#include <cstdlib>
#include <new>
#include <string>
#include <vector>

#include "validator_test_support.hpp"

namespace {

// Allocations made by this thread; only read by the test below.
thread_local std::size_t allocations_on_this_thread = 0;

}  // namespace

void* operator new(std::size_t size) {
  ++allocations_on_this_thread;
  if (void* memory = std::malloc(size == 0 ? 1 : size)) return memory;
  throw std::bad_alloc();
}
// These are the replacements of operator new above, so free() is the right
// deallocation; GCC 12 at -O1 inlines them into gtest's `new TestClass` and
// then reports a mismatch it cannot see is intended.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void operator delete(void* memory) noexcept {
  std::free(memory);
}
void operator delete(void* memory, std::size_t) noexcept {
  std::free(memory);
}
#pragma GCC diagnostic pop

namespace salesflow::core {
namespace {

TEST(ValidatorAllocation, ValidRecordsAllocateNothingOnceWarm) {
  std::vector<std::string> records;
  for (int i = 0; i < 50; ++i) {
    std::string lines;
    for (int l = 0; l <= i % 5; ++l)
      lines += std::string(l ? "," : "") + R"({"sku":"S-)" + std::to_string(l) + R"(","qty":)" +
               std::to_string(i + l) + R"(,"price":12.5,"tags":["a","b"]})";
    records.push_back(R"({"order-info":{"OrderId":"ORD-)" + std::to_string(i) + R"(","lines":[)" +
                      lines + R"(],"paid":true,"coupon":null},)" + R"("contact-info":{"email":"c)" +
                      std::to_string(i) +
                      R"(@example.com","name":"J\u00f6rg \"Jo\""},"note":"x\ny"})");
  }
  RecordValidator validator(Rules::defaults());
  const Provenance provenance = testing::test_provenance();
  std::uint64_t index = 0;
  for (const std::string& text : records)  // warm up: buffers grow to the largest record
    ASSERT_TRUE(validator.check(RawRecord{text, index++, 0, 0}, provenance).valid);
  const std::size_t before = allocations_on_this_thread;
  std::size_t valid = 0;
  for (int round = 0; round < 3; ++round)
    for (const std::string& text : records)
      valid += validator.check(RawRecord{text, index++, 0, 0}, provenance).valid ? 1 : 0;
  EXPECT_EQ(allocations_on_this_thread - before, 0u);
  EXPECT_EQ(valid, 3 * records.size());
  // The counter does count: a rejected record's reasons allocate.
  const std::size_t before_reject = allocations_on_this_thread;
  EXPECT_FALSE(validator.check(RawRecord{R"({"order-info":{}})", index++, 0, 0}, provenance).valid);
  EXPECT_GT(allocations_on_this_thread - before_reject, 0u);
}

}  // namespace
}  // namespace salesflow::core
