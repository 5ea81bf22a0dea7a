#include <gtest/gtest.h>

#include "aws/detail/uri.hpp"

namespace salesflow::aws {
namespace {

TEST(UriEncode, KeepsOnlyUnreservedCharacters) {
  EXPECT_EQ(uri_encode("AZaz09-_.~"), "AZaz09-_.~");
  EXPECT_EQ(uri_encode("a b+c/d=e&f%g"), "a%20b%2Bc%2Fd%3De%26f%25g");
  EXPECT_EQ(uri_encode("caf\xC3\xA9"), "caf%C3%A9");
  EXPECT_EQ(uri_encode(std::string("\x00\xff", 2)), "%00%FF");
  EXPECT_EQ(uri_encode(""), "");
}

TEST(UriEncode, PathKeepsSlashes) {
  EXPECT_EQ(uri_encode_path("/sales/2024 03/orders+1~.json"), "/sales/2024%2003/orders%2B1~.json");
}

TEST(UriEncode, KeepEscapesEncodesOnlyWhatIsNotYetEncoded) {
  EXPECT_EQ(uri_encode_keep_escapes("a%2fb c", false), "a%2Fb%20c");
  EXPECT_EQ(uri_encode_keep_escapes("100%", false), "100%25");
  EXPECT_EQ(uri_encode_keep_escapes("%zz%4", false), "%25zz%254");
  EXPECT_EQ(uri_encode_keep_escapes("/a b/%C3%A9", true), "/a%20b/%C3%A9");
  EXPECT_EQ(uri_encode_keep_escapes("/a", false), "%2Fa");
}

TEST(UriDecode, DecodesEscapesAndLeavesPlusAlone) {
  EXPECT_EQ(uri_decode("a%20b+c%2f%zz%"), "a b+c/%zz%");
  EXPECT_EQ(uri_decode(uri_encode("r\xC3\xA9sum\xC3\xA9 & co")), "r\xC3\xA9sum\xC3\xA9 & co");
}

TEST(NormalizePath, RemovesDotSegmentsAndEmptySegments) {
  EXPECT_EQ(normalize_path("/"), "/");
  EXPECT_EQ(normalize_path(""), "/");
  EXPECT_EQ(normalize_path("//"), "/");
  EXPECT_EQ(normalize_path("//example//"), "/example/");
  EXPECT_EQ(normalize_path("/./"), "/");
  EXPECT_EQ(normalize_path("/./example"), "/example");
  EXPECT_EQ(normalize_path("/example/.."), "/");
  EXPECT_EQ(normalize_path("/example1/example2/../.."), "/");
  EXPECT_EQ(normalize_path("/a/b/../c/."), "/a/c/");
  EXPECT_EQ(normalize_path("/../../a"), "/a");
  EXPECT_EQ(normalize_path("/a/..b/.c"), "/a/..b/.c");
}

TEST(CanonicalQuery, SortsByEncodedNameThenValue) {
  EXPECT_EQ(canonical_query_string(""), "");
  EXPECT_EQ(canonical_query_string("b=1&a=2&a=1"), "a=1&a=2&b=1");
  // Uppercase sorts before lowercase (byte order of the encoded form).
  EXPECT_EQ(canonical_query_string("a=1&B=2"), "B=2&a=1");
  EXPECT_EQ(canonical_query_string("x=a b&y=a+b&z=a%20b"), "x=a%20b&y=a%2Bb&z=a%20b");
  EXPECT_EQ(canonical_query_string("%E1%88%B4=1&\xE1\x88\xB4=2"), "%E1%88%B4=1&%E1%88%B4=2");
  EXPECT_EQ(canonical_query_string("k~=~v&&empty=&bare"), "bare=&empty=&k~=~v");
}

}  // namespace
}  // namespace salesflow::aws
