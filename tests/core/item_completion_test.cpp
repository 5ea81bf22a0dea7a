// The item buffer the walk writes into: growing keeps what is written.
#include "core/detail/item_completion.hpp"

#include <gtest/gtest.h>

#include <string>

namespace salesflow::core {
namespace {

TEST(ItemBuffer, GrowingKeepsWhatIsWritten) {
  ItemBuffer item;
  item.make_room(8);
  item.put('{');
  item.put(std::string_view("\"a\":"));
  const std::string big(100 * 1024, 'x');
  item.make_room(big.size() + 1);
  item.put(big);
  item.put('}');
  EXPECT_EQ(item.text(), "{\"a\":" + big + "}");
  item.clear();
  EXPECT_EQ(item.size(), 0u);
  EXPECT_TRUE(item.text().empty());
}

TEST(ItemBuffer, PaddedCopiesWriteExactlyTheSize) {
  // Padded copies read past the end of the source (its padding) and write
  // into the buffer's slack: the text ends where the size says.
  std::string source(3 + simdjson::SIMDJSON_PADDING, ' ');
  source.replace(0, 3, "abc");
  ItemBuffer item;
  item.make_room(3 + kItemBytesSlack);
  item.put_padded(source.data(), 3);
  item.put('!');
  EXPECT_EQ(item.text(), "abc!");
}

}  // namespace
}  // namespace salesflow::core
