// DynamoDB answers that are well-formed JSON but not what the API promises
// become errors, never a crash or a made-up value. Real requests to a
// loopback server that answers what the test says.
#include <gtest/gtest.h>
#include <httplib.h>

#include <string>

#include "aws/dynamodb.hpp"
#include "support/localaws.hpp"

namespace salesflow::aws {
namespace {

using namespace std::chrono_literals;

class DynamoDbAnswers : public ::testing::Test {
 protected:
  void answer(std::string body) {
    server_.http().Post("/", [body](const httplib::Request&, httplib::Response& response) {
      response.set_content(body, "application/x-amz-json-1.0");
    });
    server_.start();
  }
  DynamoDbClient client() {
    auto made = DynamoDbClient::create(
        test::local_client_config(http_, "http://127.0.0.1:" + std::to_string(server_.port()), 1));
    EXPECT_TRUE(made);
    return std::move(*made);
  }

  test::FakeServer server_;
  std::shared_ptr<HttpClient> http_ = std::make_shared<HttpClient>(
      HttpOptions{.connect_timeout = 2000ms, .request_timeout = 2000ms});
};

TEST_F(DynamoDbAnswers, DescribeTableWithoutTableIsAnError) {
  answer(R"({"NotTable":{}})");
  const auto described = client().describe_table("orders");
  ASSERT_FALSE(described);
  EXPECT_EQ(described.error().code, "InvalidResponse");
  EXPECT_EQ(described.error().operation, "DescribeTable");
}

TEST_F(DynamoDbAnswers, DescribeTableWithATableThatIsNoObjectIsAnError) {
  answer(R"({"Table":"orders"})");
  const auto described = client().describe_table("orders");
  ASSERT_FALSE(described);
  EXPECT_EQ(described.error().code, "InvalidResponse");
}

TEST_F(DynamoDbAnswers, DescribeTableReadsTheTable) {
  answer(R"({"Table":{"TableName":"orders","TableStatus":"ACTIVE","ItemCount":7}})");
  const auto described = client().describe_table("orders");
  ASSERT_TRUE(described) << described.error().to_string();
  EXPECT_EQ(described->name, "orders");
  EXPECT_EQ(described->status, "ACTIVE");
  EXPECT_EQ(described->item_count, 7);
}

}  // namespace
}  // namespace salesflow::aws
