// Canonicalisation edge cases of the signer and the documented S3 examples.

#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "aws/sigv4.hpp"
#include "base/digest.hpp"
#include "base/hex.hpp"

namespace salesflow::aws {
namespace {

using std::chrono::sys_days;
using namespace std::chrono_literals;

const Credentials kS3DocsCredentials{"AKIAIOSFODNN7EXAMPLE",
                                     "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "", std::nullopt};
const auto kS3DocsTime = sys_days(std::chrono::year(2013) / 5 / 24);

SigningOptions s3_options(bool unsigned_payload = false) {
  SigningOptions options;
  options.s3 = true;
  options.unsigned_payload = unsigned_payload;
  return options;
}

std::string header(const HttpRequest& request, const std::string& name) {
  for (const Header& h : request.headers) {
    if (h.name == name) return h.value;
  }
  return "<absent>";
}

int count_headers(const HttpRequest& request, const std::string& name) {
  int n = 0;
  for (const Header& h : request.headers) n += h.name == name ? 1 : 0;
  return n;
}

std::string canonical_line(const SigningTrace& trace, int index) {
  std::size_t start = 0;
  for (int i = 0; i < index; ++i) start = trace.canonical_request.find('\n', start) + 1;
  return trace.canonical_request.substr(start, trace.canonical_request.find('\n', start) - start);
}

TEST(SigV4S3Docs, PresignedGetObjectMatchesTheDocumentedSignature) {
  // "Authenticating Requests: Using Query Parameters", S3 API reference.
  HttpRequest request;
  request.host = "examplebucket.s3.amazonaws.com";
  request.path = "/test.txt";
  SigningTrace trace;
  presign_request(request, kS3DocsCredentials, {"us-east-1", "s3"}, kS3DocsTime, 86400s,
                  s3_options(true), &trace);
  EXPECT_EQ(trace.signature, "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");
  EXPECT_EQ(request.url(),
            "https://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256"
            "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
            "&X-Amz-Date=20130524T000000Z&X-Amz-SignedHeaders=host&X-Amz-Expires=86400"
            "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");
  EXPECT_TRUE(trace.canonical_request.ends_with("\nUNSIGNED-PAYLOAD"));
}

TEST(SigV4S3Docs, HeaderSignedGetObjectMatchesTheDocumentedSignature) {
  // "Examples: Signature Calculations in AWS Signature Version 4", GET Object.
  HttpRequest request;
  request.host = "examplebucket.s3.amazonaws.com";
  request.path = "/test.txt";
  request.headers = {{"Range", "bytes=0-9"}};
  sign_request(request, kS3DocsCredentials, {"us-east-1", "s3"}, kS3DocsTime, s3_options());
  EXPECT_EQ(header(request, "x-amz-content-sha256"), base::sha256_hex(""));
  EXPECT_EQ(header(request, "Authorization"),
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
            "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
            "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

TEST(SigV4S3Docs, HeaderSignedPutObjectWithAnEncodedKeyMatchesTheDocumentedSignature) {
  // Same page, PUT Object: the key "test$file.text" goes on the wire as test%24file.text.
  HttpRequest request;
  request.method = "PUT";
  request.host = "examplebucket.s3.amazonaws.com";
  request.path = "/test%24file.text";
  request.body = "Welcome to Amazon S3.";
  request.headers = {{"Date", "Fri, 24 May 2013 00:00:00 GMT"},
                     {"x-amz-storage-class", "REDUCED_REDUNDANCY"}};
  SigningTrace trace;
  sign_request(request, kS3DocsCredentials, {"us-east-1", "s3"}, kS3DocsTime, s3_options(), nullptr,
               &trace);
  EXPECT_EQ(canonical_line(trace, 1), "/test%24file.text");
  EXPECT_EQ(header(request, "x-amz-content-sha256"),
            "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
  EXPECT_EQ(trace.signature, "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
}

TEST(SigV4SigningKey, MatchesTheDocumentedDerivation) {
  // The derived-key example of the SigV4 documentation (IAM, 2012-02-15).
  EXPECT_EQ(base::hex_encode(derive_signing_key("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                                                "20120215", "us-east-1", "iam")),
            "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d");
}

TEST(SigV4SigningKey, CacheDerivesOnlyWhenTheDateOrScopeChanges) {
  SigningKeyCache cache;
  const auto first = cache.get("secret", "20240101", "us-east-1", "dynamodb");
  EXPECT_EQ(cache.get("secret", "20240101", "us-east-1", "dynamodb"), first);
  EXPECT_EQ(cache.derivations(), 1u);
  EXPECT_EQ(first, derive_signing_key("secret", "20240101", "us-east-1", "dynamodb"));
  cache.get("secret", "20240101", "us-east-1", "sqs");
  EXPECT_EQ(cache.derivations(), 2u);
  const auto next_day = cache.get("secret", "20240102", "us-east-1", "dynamodb");
  EXPECT_NE(next_day, first);
  EXPECT_EQ(cache.derivations(), 3u);
  cache.get("rotated-secret", "20240102", "us-east-1", "dynamodb");
  EXPECT_EQ(cache.derivations(), 4u);
}

class SigV4Canonical : public testing::Test {
 protected:
  SigningTrace sign(HttpRequest request, const SigningOptions& options = {}) {
    SigningTrace trace;
    sign_request(request, {"AKID", "SECRET", "", std::nullopt}, {"us-east-1", "dynamodb"}, now_,
                 options, nullptr, &trace);
    last_ = request;
    return trace;
  }
  HttpRequest request(std::string path, std::string query = "") {
    HttpRequest r;
    r.method = "POST";
    r.host = "dynamodb.us-east-1.amazonaws.com";
    r.path = std::move(path);
    r.query = std::move(query);
    return r;
  }
  const std::chrono::system_clock::time_point now_ = sys_days(std::chrono::year(2024) / 3 / 1);
  HttpRequest last_;
};

TEST_F(SigV4Canonical, S3PathIsEncodedOnceAndNotNormalised) {
  HttpRequest r = request("/bucket/my key+x/%c3%a9/./a/../~b");
  EXPECT_EQ(canonical_line(sign(r, s3_options()), 1), "/bucket/my%20key%2Bx/%C3%A9/./a/../~b");
  r.path = "/bucket/caf\xC3\xA9 menu.json";  // raw UTF-8 and space: encoded once
  EXPECT_EQ(canonical_line(sign(r, s3_options()), 1), "/bucket/caf%C3%A9%20menu.json");
}

TEST_F(SigV4Canonical, OtherServicesNormaliseAndEncodeTheWirePathAgain) {
  EXPECT_EQ(canonical_line(sign(request("/a%20b/./c/../d//e")), 1), "/a%2520b/d/e");
  EXPECT_EQ(canonical_line(sign(request("")), 1), "/");
  EXPECT_EQ(canonical_line(sign(request("/~x+y")), 1), "/~x%2By");
}

TEST_F(SigV4Canonical, QueryIsSortedAndEncodedWithPercent20NeverPlus) {
  const SigningTrace trace = sign(request("/", "b=2&a=x y&a=1&c+d=%7e&k~=v~&flag&e=%c3%a9=z"));
  EXPECT_EQ(canonical_line(trace, 2), "a=1&a=x%20y&b=2&c%2Bd=%7E&e=%C3%A9%3Dz&flag=&k~=v~");
}

TEST_F(SigV4Canonical, HeadersAreLowercasedTrimmedCollapsedAndJoined) {
  HttpRequest r = request("/");
  r.headers = {{"X-Amz-Target", "DynamoDB_20120810.BatchWriteItem"},
               {"Content-Type", "  application/x-amz-json-1.0\t "},
               {"X-Custom", "a   b\t\tc"},
               {"x-custom", "second"},
               {"User-Agent", "salesflow"},
               {"Expect", ""}};
  const SigningTrace trace = sign(r);
  EXPECT_NE(trace.canonical_request.find("content-type:application/x-amz-json-1.0\n"
                                         "host:dynamodb.us-east-1.amazonaws.com\n"
                                         "x-amz-date:20240301T000000Z\n"
                                         "x-amz-target:DynamoDB_20120810.BatchWriteItem\n"
                                         "x-custom:a b c,second\n\n"
                                         "content-type;host;x-amz-date;x-amz-target;x-custom\n"),
            std::string::npos)
      << trace.canonical_request;
  // DynamoDB (not S3) carries no x-amz-content-sha256 header; the body hash is signed anyway.
  EXPECT_EQ(count_headers(last_, "x-amz-content-sha256"), 0);
  EXPECT_TRUE(trace.canonical_request.ends_with(base::sha256_hex("")));
}

TEST_F(SigV4Canonical, ExplicitHostHeaderWinsOverTheRequestHost) {
  HttpRequest r = request("/");
  r.headers = {{"Host", "127.0.0.1:4566"}};
  EXPECT_NE(sign(r).canonical_request.find("\nhost:127.0.0.1:4566\n"), std::string::npos);
}

TEST_F(SigV4Canonical, ResigningReplacesTheAuthenticationHeaders) {
  HttpRequest r = request("/");
  r.body = "{}";
  const Credentials temporary{"ASIA", "SECRET", "TOKEN", std::nullopt};
  sign_request(r, temporary, {"us-east-1", "s3"}, now_, s3_options());
  sign_request(r, temporary, {"us-east-1", "s3"}, now_ + 5s, s3_options());
  for (const char* name :
       {"Authorization", "X-Amz-Date", "X-Amz-Security-Token", "x-amz-content-sha256"}) {
    EXPECT_EQ(count_headers(r, name), 1) << name;
  }
  EXPECT_EQ(header(r, "X-Amz-Date"), "20240301T000005Z");
  EXPECT_EQ(header(r, "X-Amz-Security-Token"), "TOKEN");
  EXPECT_EQ(header(r, "x-amz-content-sha256"), base::sha256_hex("{}"));
  EXPECT_NE(header(r, "Authorization").find("x-amz-security-token"), std::string::npos);
}

TEST_F(SigV4Canonical, UnsignedPayloadAndPrecomputedHash) {
  HttpRequest r = request("/bucket/key");
  r.body = "ignored";
  sign(r, s3_options(true));
  EXPECT_EQ(header(last_, "x-amz-content-sha256"), "UNSIGNED-PAYLOAD");
  const std::string precomputed(64, 'a');
  SigningOptions options = s3_options();
  options.payload_hash = precomputed;
  EXPECT_TRUE(sign(r, options).canonical_request.ends_with(precomputed));
}

TEST_F(SigV4Canonical, SignatureChangesWithEverySignedInput) {
  HttpRequest base = request("/", "a=1");
  base.body = "{}";
  const std::string reference = sign(base).signature;
  HttpRequest other = base;
  other.body = "{ }";
  EXPECT_NE(sign(other).signature, reference);
  other = base;
  other.query = "a=2";
  EXPECT_NE(sign(other).signature, reference);
  other = base;
  other.method = "PUT";
  EXPECT_NE(sign(other).signature, reference);
  EXPECT_EQ(sign(base).signature, reference);
}

}  // namespace
}  // namespace salesflow::aws
