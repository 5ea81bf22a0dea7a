// Retry classification, backoff bounds, the quota, deadlines and error parsing,
// the last three through a signed service call against an in-process server.
#include "aws/retry.hpp"

#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include "aws/service.hpp"
#include "support/localaws.hpp"

namespace salesflow::aws {
namespace {

using namespace std::chrono_literals;

AwsError error_with(int status, std::string code, bool transport_retryable = false) {
  AwsError error;
  error.http_status = status;
  error.code = std::move(code);
  error.retryable = transport_retryable;
  return error;
}

TEST(RetryClassification, RetriesServerErrorsThrottlingAndTransportFailures) {
  for (const int status : {500, 502, 503, 504, 429})
    EXPECT_TRUE(is_retryable(error_with(status, ""))) << status;
  for (const char* code :
       {"ThrottlingException", "ProvisionedThroughputExceededException", "SlowDown",
        "RequestLimitExceeded", "TooManyRequestsException", "RequestThrottled",
        "TransactionInProgressException", "LimitExceededException"}) {
    EXPECT_TRUE(is_retryable(error_with(400, code))) << code;
    EXPECT_TRUE(is_throttling_code(code)) << code;
  }
  EXPECT_TRUE(is_retryable(error_with(0, "ConnectionReset", true)));
  EXPECT_TRUE(is_retryable(error_with(0, "Timeout", true)));
}

TEST(RetryClassification, ValidationAuthorizationAndNotFoundAreFinal) {
  for (const char* code :
       {"ValidationException", "AccessDeniedException", "UnrecognizedClientException",
        "ResourceNotFoundException", "ConditionalCheckFailedException"}) {
    EXPECT_FALSE(is_retryable(error_with(400, code))) << code;
  }
  EXPECT_FALSE(is_retryable(error_with(403, "SignatureDoesNotMatch")));
  EXPECT_FALSE(is_retryable(error_with(404, "NoSuchKey")));
  EXPECT_FALSE(is_retryable(error_with(0, "TlsError", false)));
}

TEST(RetryClassification, AThrottledOperationThatRanOutOfTimeFailedForThrottling) {
  AwsError throttling = error_with(400, "ThrottlingException");
  throttling.message = "slow down";
  AwsError timeout = error_with(0, "Timeout");
  timeout.message = "no answer in 300 ms";
  const auto reason = throttling_outlasted(throttling, timeout);
  ASSERT_TRUE(reason);
  EXPECT_EQ(reason->code, "ThrottlingException");
  EXPECT_NE(reason->message.find("slow down"), std::string::npos);
  EXPECT_NE(reason->message.find("no answer in 300 ms"), std::string::npos) << reason->message;
  EXPECT_TRUE(throttling_outlasted(throttling, error_with(0, "DeadlineExceeded")));
  // Anything else that ends it is its own reason, as is a timeout without throttling.
  EXPECT_FALSE(throttling_outlasted(throttling, error_with(500, "InternalServerError")));
  EXPECT_FALSE(throttling_outlasted(throttling, error_with(400, "ValidationException")));
  EXPECT_FALSE(throttling_outlasted(std::nullopt, timeout));
  EXPECT_FALSE(throttling_outlasted(error_with(503, "ServiceUnavailable"), timeout));
}

TEST(Backoff, FullJitterStaysWithinTheExponentialCeilingAndTheCap) {
  std::mt19937_64 rng(42);
  RetryPolicy policy;
  policy.base_delay = 25ms;
  policy.max_backoff = 20000ms;
  for (int retry = 0; retry < 40; ++retry) {
    const auto ceiling = std::min<long long>(20000, 25LL << std::min(retry, 20));
    long long largest = 0;
    for (int i = 0; i < 200; ++i) {
      const auto delay = backoff_delay(retry, policy, rng).count();
      ASSERT_GE(delay, 0);
      ASSERT_LE(delay, ceiling) << retry;
      largest = std::max<long long>(largest, delay);
    }
    EXPECT_GT(largest, ceiling / 2) << "jitter should spread over the whole range";
  }
}

TEST(RetryQuota, ChargesRetriesAndTimeoutsAndRefundsOnSuccess) {
  RetryQuota quota(20);
  EXPECT_EQ(quota.acquire(error_with(503, "")), RetryQuota::kRetryCost);
  EXPECT_EQ(quota.available(), 15);
  EXPECT_EQ(quota.acquire(error_with(0, "Timeout", true)), RetryQuota::kTimeoutCost);
  EXPECT_EQ(quota.available(), 5);
  EXPECT_FALSE(quota.acquire(error_with(0, "Timeout", true)));  // cannot pay 10
  EXPECT_EQ(quota.acquire(error_with(503, "")), 5);
  EXPECT_FALSE(quota.acquire(error_with(503, "")));  // empty: no retry storm
  quota.release(5);
  EXPECT_EQ(quota.available(), 5);
  quota.release(0);  // success without retry
  EXPECT_EQ(quota.available(), 6);
  for (int i = 0; i < 100; ++i) quota.release(10);
  EXPECT_EQ(quota.available(), 20);  // never above capacity
}

TEST(RetryStrategy, StopsAtMaxAttemptsTheDeadlineAndForFinalErrors) {
  RetryStrategy strategy(7);
  RetryPolicy policy;
  policy.max_attempts = 3;
  EXPECT_TRUE(strategy.decide(error_with(503, ""), 1, policy, std::nullopt).retry);
  EXPECT_TRUE(strategy.decide(error_with(503, ""), 2, policy, std::nullopt).retry);
  EXPECT_FALSE(strategy.decide(error_with(503, ""), 3, policy, std::nullopt).retry);
  EXPECT_FALSE(
      strategy.decide(error_with(400, "ValidationException"), 1, policy, std::nullopt).retry);
  EXPECT_FALSE(strategy.decide(error_with(503, ""), 1, policy, 0ms).retry);
}

TEST(ErrorParsing, JsonProtocolErrors) {
  HttpResponse response;
  response.status = 400;
  response.headers = {{"x-amzn-RequestId", "RID1"}};
  response.body =
      R"({"__type":"com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException","message":"slow down"})";
  const AwsError error = parse_json_error(response);
  EXPECT_EQ(error.code, "ProvisionedThroughputExceededException");
  EXPECT_EQ(error.message, "slow down");
  EXPECT_EQ(error.request_id, "RID1");
  EXPECT_EQ(error.http_status, 400);
  EXPECT_TRUE(error.retryable);

  response.body = R"({"__type":"com.amazonaws.sqs#QueueDoesNotExist","Message":"gone"})";
  EXPECT_EQ(parse_json_error(response).code, "QueueDoesNotExist");
  EXPECT_EQ(parse_json_error(response).message, "gone");

  response.body = "<html>bad gateway</html>";
  response.status = 502;
  response.headers = {{"x-amzn-ErrorType", "InternalFailure:http://internal"}};
  const AwsError gateway = parse_json_error(response);
  EXPECT_EQ(gateway.code, "InternalFailure");
  EXPECT_TRUE(gateway.retryable);
}

TEST(ErrorParsing, XmlErrorsAndBodilessResponses) {
  HttpResponse response;
  response.status = 404;
  response.headers = {{"x-amz-request-id", "S3RID"}};
  response.body =
      "<?xml version=\"1.0\"?><Error><Code>NoSuchKey</Code><Message>The key does not "
      "exist</Message><RequestId>ignored</RequestId></Error>";
  const AwsError error = parse_xml_error(response);
  EXPECT_EQ(error.code, "NoSuchKey");
  EXPECT_EQ(error.message, "The key does not exist");
  EXPECT_EQ(error.request_id, "S3RID");
  EXPECT_FALSE(error.retryable);

  HttpResponse head;
  head.status = 412;
  EXPECT_EQ(parse_xml_error(head).code, "PreconditionFailed");
  head.status = 503;
  response.body = "<Error><Code>SlowDown</Code></Error>";
  response.status = 503;
  EXPECT_EQ(parse_xml_error(response).code, "SlowDown");
  EXPECT_TRUE(parse_xml_error(response).retryable);
}

TEST(Endpoints, ParsesCustomEndpointsAndRejectsNonsense) {
  const auto local = parse_endpoint_url("http://127.0.0.1:4566/");
  ASSERT_TRUE(local);
  EXPECT_EQ(local->scheme, "http");
  EXPECT_EQ(local->host, "127.0.0.1:4566");
  EXPECT_EQ(local->base_path, "");
  EXPECT_TRUE(local->is_custom);
  EXPECT_FALSE(parse_endpoint_url("127.0.0.1:4566"));
  EXPECT_FALSE(parse_endpoint_url("ftp://x"));
  EXPECT_EQ(default_endpoint("dynamodb", "eu-west-1").host, "dynamodb.eu-west-1.amazonaws.com");
  EXPECT_EQ(default_endpoint("sqs", "cn-north-1").host, "sqs.cn-north-1.amazonaws.com.cn");
}

// Counts what the runtime tells its observer (from the I/O thread).
class CountingObserver final : public RequestObserver {
 public:
  void on_request_started(std::string_view service, std::string_view operation) override {
    const std::scoped_lock lock(mutex);
    started.push_back(std::string(service) + "." + std::string(operation));
  }
  void on_retry(const RetryRecord& retry) override {
    const std::scoped_lock lock(mutex);
    retries.push_back(std::to_string(retry.attempt) + ":" + retry.error.code);
  }
  void on_request(const RequestRecord& record) override {
    const std::scoped_lock lock(mutex);
    finished.push_back(std::to_string(record.attempts) + (record.throttled ? " throttled" : "") +
                       (record.ok ? " ok" : " failed"));
  }
  void on_credentials_refresh_failure(const AwsError& /*error*/,
                                      std::chrono::seconds /*valid_for*/) override {}
  std::mutex mutex;
  std::vector<std::string> started;
  std::vector<std::string> retries;
  std::vector<std::string> finished;
};

class ServiceCallTest : public ::testing::Test {
 protected:
  std::shared_ptr<ServiceRuntime> runtime(RetryPolicy policy,
                                          int quota = RetryQuota::kDefaultCapacity,
                                          std::shared_ptr<RequestObserver> observer = nullptr) {
    ClientConfig config{http_,
                        test::test_credentials(),
                        "us-east-1",
                        server_.endpoint(),
                        policy,
                        std::make_shared<RetryStrategy>(1, quota),
                        std::move(observer)};
    auto created =
        ServiceRuntime::create(config, "dynamodb", "dynamodb", "dynamodb", parse_json_error);
    EXPECT_TRUE(created);
    return *created;
  }
  test::FakeServer server_;
  std::shared_ptr<HttpClient> http_ = std::make_shared<HttpClient>(
      HttpOptions{.connect_timeout = 1000ms, .request_timeout = 300ms});
};

TEST_F(ServiceCallTest, RetriesThrottlingUntilSuccessSignsEveryAttemptAndTellsTheObserver) {
  std::atomic<int> calls{0};
  std::atomic<int> signed_calls{0};
  server_.http().Post("/", [&](const httplib::Request& req, httplib::Response& res) {
    if (req.get_header_value("Authorization").starts_with("AWS4-HMAC-SHA256")) ++signed_calls;
    if (++calls < 3) {
      res.status = 400;
      res.set_content(R"({"__type":"x#ThrottlingException","message":"slow"})", "application/json");
      return;
    }
    res.set_content("{}", "application/x-amz-json-1.0");
  });
  server_.start();
  const auto observer = std::make_shared<CountingObserver>();
  auto rt = runtime(
      RetryPolicy{
          .max_attempts = 5, .base_delay = 1ms, .max_backoff = 5ms, .deadline = std::nullopt},
      RetryQuota::kDefaultCapacity, observer);
  const auto result = rt->call_blocking(rt->json_call("DynamoDB_20120810", "PutItem", "{}"));
  ASSERT_TRUE(result) << result.error().to_string();
  EXPECT_EQ(calls.load(), 3);
  EXPECT_EQ(signed_calls.load(), 3);
  const std::scoped_lock lock(observer->mutex);
  EXPECT_EQ(observer->started, std::vector<std::string>{"dynamodb.PutItem"});
  EXPECT_EQ(observer->retries,
            (std::vector<std::string>{"1:ThrottlingException", "2:ThrottlingException"}));
  EXPECT_EQ(observer->finished, std::vector<std::string>{"3 throttled ok"});
}

TEST_F(ServiceCallTest, FinalErrorCarriesEveryDetailAndTheAttemptCount) {
  std::atomic<int> calls{0};
  server_.http().Post("/", [&](const httplib::Request&, httplib::Response& res) {
    ++calls;
    res.status = 503;
    res.set_header("x-amzn-RequestId", "R-503");
    res.set_content(R"({"__type":"x#ServiceUnavailable","message":"down"})", "application/json");
  });
  server_.start();
  auto rt = runtime(RetryPolicy{
      .max_attempts = 4, .base_delay = 1ms, .max_backoff = 5ms, .deadline = std::nullopt});
  const auto result = rt->call_blocking(rt->json_call("DynamoDB_20120810", "GetItem", "{}"));
  ASSERT_FALSE(result);
  const AwsError& error = result.error();
  EXPECT_EQ(error.service, "dynamodb");
  EXPECT_EQ(error.operation, "GetItem");
  EXPECT_EQ(error.http_status, 503);
  EXPECT_EQ(error.code, "ServiceUnavailable");
  EXPECT_EQ(error.request_id, "R-503");
  EXPECT_TRUE(error.retryable);
  EXPECT_EQ(error.attempts, 4);
  EXPECT_EQ(calls.load(), 4);
}

TEST_F(ServiceCallTest, ValidationErrorsAreNotRetried) {
  std::atomic<int> calls{0};
  server_.http().Post("/", [&](const httplib::Request&, httplib::Response& res) {
    ++calls;
    res.status = 400;
    res.set_content(R"({"__type":"x#ValidationException","message":"bad"})", "application/json");
  });
  server_.start();
  auto rt = runtime(RetryPolicy{});
  const auto result = rt->call_blocking(rt->json_call("DynamoDB_20120810", "PutItem", "{}"));
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, "ValidationException");
  EXPECT_FALSE(result.error().retryable);
  EXPECT_EQ(result.error().attempts, 1);
  EXPECT_EQ(calls.load(), 1);
}

TEST_F(ServiceCallTest, AnEmptyQuotaStopsRetrying) {
  std::atomic<int> calls{0};
  server_.http().Post("/", [&](const httplib::Request&, httplib::Response& res) {
    ++calls;
    res.status = 500;
  });
  server_.start();
  auto rt = runtime(
      RetryPolicy{
          .max_attempts = 10, .base_delay = 1ms, .max_backoff = 2ms, .deadline = std::nullopt},
      12);
  const auto result = rt->call_blocking(rt->json_call("DynamoDB_20120810", "PutItem", "{}"));
  ASSERT_FALSE(result);
  EXPECT_EQ(calls.load(), 3);  // 12 tokens pay for two retries of 5
  EXPECT_NE(result.error().message.find("quota"), std::string::npos);
}

TEST_F(ServiceCallTest, TheDeadlineBoundsAStalledServer) {
  std::atomic<int> calls{0};
  server_.http().Post("/", [&](const httplib::Request&, httplib::Response& res) {
    ++calls;
    std::this_thread::sleep_for(2s);
    res.set_content("{}", "application/json");
  });
  server_.start();
  auto rt = runtime(
      RetryPolicy{.max_attempts = 50, .base_delay = 1ms, .max_backoff = 5ms, .deadline = 700ms});
  const auto result = rt->call_blocking(rt->json_call("DynamoDB_20120810", "PutItem", "{}"));
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, "Timeout");
  EXPECT_LE(result.error().attempts, 4);  // 300 ms per attempt within 700 ms
  EXPECT_GE(result.error().attempts, 2);
}

// Throttled twice, then no answer until the deadline: the call failed for
// want of capacity, and says so (the timeouts only when it was noticed).
TEST_F(ServiceCallTest, ThrottlingThenTimeoutsEndWithTheThrottling) {
  std::atomic<int> calls{0};
  server_.http().Post("/", [&](const httplib::Request&, httplib::Response& res) {
    if (++calls <= 2) {
      res.status = 400;
      res.set_content(R"({"__type":"x#ThrottlingException","message":"slow"})", "application/json");
      return;
    }
    std::this_thread::sleep_for(2s);
    res.set_content("{}", "application/json");
  });
  server_.start();
  auto rt = runtime(
      RetryPolicy{.max_attempts = 50, .base_delay = 1ms, .max_backoff = 5ms, .deadline = 900ms});
  const auto result = rt->call_blocking(rt->json_call("DynamoDB_20120810", "PutItem", "{}"));
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, "ThrottlingException") << result.error().to_string();
  EXPECT_NE(result.error().message.find("Timeout"), std::string::npos) << result.error().message;
  EXPECT_TRUE(result.error().retryable);
  EXPECT_GE(result.error().attempts, 3);
  EXPECT_GE(calls.load(), 3);
}

TEST_F(ServiceCallTest, ConnectionRefusedIsRetriedThenReported) {
  ClientConfig config{
      http_,
      test::test_credentials(),
      "us-east-1",
      "http://127.0.0.1:" + std::to_string(test::unused_port()),
      RetryPolicy{
          .max_attempts = 3, .base_delay = 1ms, .max_backoff = 2ms, .deadline = std::nullopt},
      nullptr,
      nullptr};
  auto rt = ServiceRuntime::create(config, "sqs", "sqs", "sqs", parse_json_error);
  ASSERT_TRUE(rt);
  const auto result = (*rt)->call_blocking((*rt)->json_call("AmazonSQS", "SendMessage", "{}"));
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, "ConnectFailed");
  EXPECT_EQ(result.error().attempts, 3);
  EXPECT_EQ(result.error().service, "sqs");
}

}  // namespace
}  // namespace salesflow::aws
