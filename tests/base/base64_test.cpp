// base64 through EVP_EncodeBlock: RFC 4648's vectors, appending, and an input
// larger than one EVP_EncodeBlock call takes.
#include "base/base64.hpp"

#include <gtest/gtest.h>

#include <initializer_list>
#include <string>
#include <utility>

namespace salesflow::base {
namespace {

TEST(Base64, Rfc4648Vectors) {
  for (const auto& [plain, encoded] :
       std::initializer_list<std::pair<const char*, const char*>>{{"", ""},
                                                                  {"f", "Zg=="},
                                                                  {"fo", "Zm8="},
                                                                  {"foo", "Zm9v"},
                                                                  {"foob", "Zm9vYg=="},
                                                                  {"fooba", "Zm9vYmE="},
                                                                  {"foobar", "Zm9vYmFy"}}) {
    std::string out;
    append_base64(out, plain);
    EXPECT_EQ(out, encoded) << plain;
  }
}

TEST(Base64, AppendsAndKeepsBinaryBytes) {
  std::string out = "raw:";
  append_base64(out, std::string_view("\x00\xff\xfe", 3));
  EXPECT_EQ(out, "raw:AP/+");
}

TEST(Base64, LargerThanOneChunk) {
  // 3 MiB + 2 bytes: two EVP_EncodeBlock calls, padding only at the end.
  const std::string plain((std::size_t{3} << 20) + 2, 'a');
  std::string out;
  append_base64(out, plain);
  ASSERT_EQ(out.size(), (plain.size() + 2) / 3 * 4);
  EXPECT_EQ(out.substr(0, 8), "YWFhYWFh");
  EXPECT_EQ(out.substr(out.size() - 4), "YWE=");
  EXPECT_EQ(out.find('='), out.size() - 1);
}

}  // namespace
}  // namespace salesflow::base
