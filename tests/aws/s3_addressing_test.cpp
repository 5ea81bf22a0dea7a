// Which host and path an S3 request goes to: path style on custom endpoints
// unless told otherwise, virtual-hosted when asked (S3-compatible stores that
// need it, a profile's s3.addressing_style = virtual), and path style for
// bucket names that cannot be a host name. Real requests to a loopback server;
// curl resolves every *.localhost name to loopback, so bucket.localhost works.
#include <gtest/gtest.h>
#include <httplib.h>

#include <mutex>
#include <optional>
#include <string>

#include "aws/s3.hpp"
#include "support/localaws.hpp"

namespace salesflow::aws {
namespace {

using namespace std::chrono_literals;

struct Seen {
  std::string host;
  std::string path;  // as the server decoded it
};

class S3AddressingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_.http().Put(R"(/.*)", [&](const httplib::Request& request, httplib::Response& response) {
      const std::lock_guard lock(mutex_);
      seen_ = Seen{request.get_header_value("Host"), request.path};
      response.set_header("ETag", "\"e\"");
      response.status = 200;
    });
    server_.start();
  }

  // The host and path one PutObject arrived with.
  Seen put_with(std::optional<bool> path_style, const std::string& bucket) {
    ClientConfig config =
        test::local_client_config(http_, "http://localhost:" + std::to_string(server_.port()), 1);
    auto client = S3Client::create(config, path_style);
    EXPECT_TRUE(client);
    const auto put = client->put_object(bucket, "in/a b.json", "{}");
    EXPECT_TRUE(put) << (put ? "" : put.error().message);
    const std::lock_guard lock(mutex_);
    return seen_;
  }

  test::FakeServer server_;
  std::shared_ptr<HttpClient> http_ = std::make_shared<HttpClient>(
      HttpOptions{.connect_timeout = 2000ms, .request_timeout = 2000ms});
  std::mutex mutex_;
  Seen seen_;
};

TEST_F(S3AddressingTest, CustomEndpointDefaultsToPathStyle) {
  const Seen seen = put_with(std::nullopt, "sales-bucket");
  EXPECT_EQ(seen.host, "localhost:" + std::to_string(server_.port()));
  EXPECT_EQ(seen.path, "/sales-bucket/in/a b.json");
}

TEST_F(S3AddressingTest, VirtualHostedWhenAsked) {
  const Seen seen = put_with(false, "sales-bucket");
  EXPECT_EQ(seen.host, "sales-bucket.localhost:" + std::to_string(server_.port()));
  EXPECT_EQ(seen.path, "/in/a b.json");
}

TEST_F(S3AddressingTest, PathStyleWhenAsked) {
  const Seen seen = put_with(true, "sales-bucket");
  EXPECT_EQ(seen.path, "/sales-bucket/in/a b.json");
}

TEST_F(S3AddressingTest, BucketThatIsNoHostNameGoesPathStyle) {
  const Seen seen = put_with(false, "Sales_Bucket");
  EXPECT_EQ(seen.host, "localhost:" + std::to_string(server_.port()));
  EXPECT_EQ(seen.path, "/Sales_Bucket/in/a b.json");
}

}  // namespace
}  // namespace salesflow::aws
