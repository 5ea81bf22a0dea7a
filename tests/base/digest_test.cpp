// HMAC-SHA256 against RFC 4231's test vectors (short, empty-ish, and longer
// than a block keys and data), SHA-256 / MD5 against known digests, and hex.
#include "base/digest.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "base/hex.hpp"

namespace salesflow::base {
namespace {

std::string hmac_hex(const std::string& key, const std::string& data) {
  return hex_encode(hmac_sha256(std::string_view(key), data));
}

TEST(HmacSha256, Rfc4231Vectors) {
  // Test case 1
  EXPECT_EQ(hmac_hex(std::string(20, '\x0b'), "Hi There"),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  // Test case 2: a key shorter than the digest
  EXPECT_EQ(hmac_hex("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  // Test case 3: 50 bytes of 0xdd
  EXPECT_EQ(hmac_hex(std::string(20, '\xaa'), std::string(50, '\xdd')),
            "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe");
  // Test case 6: a key longer than the block size is hashed first
  EXPECT_EQ(
      hmac_hex(std::string(131, '\xaa'), "Test Using Larger Than Block-Size Key - Hash Key First"),
      "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
  // Test case 7: long key and long data
  EXPECT_EQ(hmac_hex(std::string(131, '\xaa'),
                     "This is a test using a larger than block-size key and a larger than "
                     "block-size data. The key needs to be hashed before being used by the HMAC "
                     "algorithm."),
            "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2");
  // A key of exactly one block, and an empty message
  EXPECT_EQ(hmac_hex(std::string(64, 'k'), ""), hmac_hex(std::string(64, 'k'), std::string()));
}

TEST(Digests, KnownValues) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(hex_encode(sha256("abc")), sha256_hex("abc"));
  EXPECT_EQ(md5_hex(""), "d41d8cd98f00b204e9800998ecf8427e");
  EXPECT_EQ(md5_hex("The quick brown fox jumps over the lazy dog"),
            "9e107d9d372bb6826bd81d3542a419d6");
}

TEST(Hex, EveryByteLowercaseTwoDigits) {
  std::vector<std::uint8_t> bytes;
  for (int b = 0; b < 256; ++b) bytes.push_back(static_cast<std::uint8_t>(b));
  const std::string hex = hex_encode(bytes);
  ASSERT_EQ(hex.size(), 512u);
  EXPECT_EQ(hex.substr(0, 8), "00010203");
  EXPECT_EQ(hex.substr(2 * 0xab, 2), "ab");
  EXPECT_EQ(hex.substr(510), "ff");
  EXPECT_EQ(hex_encode({}), "");
  const std::uint8_t some[] = {0x00, 0x7f, 0x80, 0xff};
  EXPECT_EQ(hex_encode(some), "007f80ff");
  EXPECT_EQ(std::string_view(kHexUpper), "0123456789ABCDEF");
}

}  // namespace
}  // namespace salesflow::base
