#include "aws/endpoint.hpp"

#include <gtest/gtest.h>

namespace salesflow::aws {
namespace {

TEST(EndpointUrl, KeepsABasePathWithoutTrailingSlashes) {
  const auto endpoint = parse_endpoint_url("https://gateway.example:8443/aws/sqs//");
  ASSERT_TRUE(endpoint) << endpoint.error().to_string();
  EXPECT_EQ(endpoint->scheme, "https");
  EXPECT_EQ(endpoint->host, "gateway.example:8443");
  EXPECT_EQ(endpoint->base_path, "/aws/sqs");
  EXPECT_TRUE(endpoint->is_custom);
  EXPECT_EQ(endpoint->url(), "https://gateway.example:8443/aws/sqs");
}

TEST(EndpointUrl, SchemeIsCaseInsensitive) {
  const auto endpoint = parse_endpoint_url("HTTP://127.0.0.1:4566");
  ASSERT_TRUE(endpoint);
  EXPECT_EQ(endpoint->scheme, "http");
  EXPECT_EQ(endpoint->url(), "http://127.0.0.1:4566");
}

TEST(EndpointUrl, RejectsWhatIsNoServiceEndpoint) {
  for (const char* url :
       {"", "127.0.0.1:4566", "ftp://host", "http://", "http:///path", "http://:4566",
        "http://host?x=1", "http://host/a#b", "http://u@host", "http://host name"}) {
    const auto endpoint = parse_endpoint_url(url);
    ASSERT_FALSE(endpoint) << url;
    EXPECT_EQ(endpoint.error().code, "InvalidEndpoint") << url;
    EXPECT_NE(endpoint.error().message.find(url), std::string::npos) << url;
  }
}

TEST(S3Location, EmptyKeyAddressesTheBucket) {
  const Endpoint aws = default_endpoint("s3", "eu-west-1");
  auto location = s3_location(aws, false, "sales-in", "");
  EXPECT_EQ(location.host, "sales-in.s3.eu-west-1.amazonaws.com");
  EXPECT_EQ(location.path, "/");
  location = s3_location(aws, true, "sales-in", "");
  EXPECT_EQ(location.host, "s3.eu-west-1.amazonaws.com");
  EXPECT_EQ(location.path, "/sales-in");
}

TEST(S3Location, BucketsThatAreNoDnsLabelGoPathStyle) {
  const Endpoint aws = default_endpoint("s3", "us-east-1");
  for (const char* bucket : {"Sales", "sales_in", "-sales", "sales-", "ab"}) {
    const auto location = s3_location(aws, false, bucket, "k");
    EXPECT_EQ(location.host, "s3.us-east-1.amazonaws.com") << bucket;
  }
  EXPECT_EQ(s3_location(aws, false, "Sales_In", "k").path, "/Sales_In/k");
}

TEST(S3Location, PathStyleBehindTheBasePathOfACustomEndpoint) {
  const auto endpoint = parse_endpoint_url("http://127.0.0.1:4566/s3");
  ASSERT_TRUE(endpoint);
  const auto location = s3_location(*endpoint, true, "sales-in", "2024/a b.json");
  EXPECT_EQ(location.scheme, "http");
  EXPECT_EQ(location.host, "127.0.0.1:4566");
  EXPECT_EQ(location.path, "/s3/sales-in/2024/a%20b.json");
}

}  // namespace
}  // namespace salesflow::aws
