#pragma once
// The AWS clients of one salesflow process, built from the standard AWS
// environment and the command's settings: one HTTP client (one I/O thread,
// one connection pool), one credentials chain, and the three service clients.

#include <memory>
#include <optional>
#include <string>
#include <tl/expected.hpp>

#include "app/settings.hpp"
#include "aws/config.hpp"
#include "aws/dynamodb.hpp"
#include "aws/http_client.hpp"
#include "aws/s3.hpp"
#include "aws/sqs.hpp"

namespace salesflow::app {

class AwsContext {
 public:
  // Errors are one line for the user (no region, a bad endpoint URL, ...).
  // `observer`, when given, is told about every AWS call (metrics).
  [[nodiscard]] static tl::expected<std::unique_ptr<AwsContext>, std::string> create(
      const Settings& settings, std::shared_ptr<aws::RequestObserver> observer = nullptr);
  AwsContext() = default;  // empty; use create()
  // Shuts the HTTP client down first (every pending call completed, the I/O
  // thread joined), also when in-flight calls still share it: no AWS
  // completion or request observer runs once the context is gone, so what
  // they call (metrics, sinks) may be destroyed right after it.
  ~AwsContext();
  AwsContext(const AwsContext&) = delete;
  AwsContext& operator=(const AwsContext&) = delete;

  const aws::AwsConfig& config() const { return config_; }
  aws::S3Client& s3() { return *s3_; }
  aws::DynamoDbClient& dynamodb() { return *dynamodb_; }
  aws::SqsClient& sqs() { return *sqs_; }
  aws::HttpClient& http() { return *http_; }

  // The URL of a queue by name (GetQueueUrl); errors are one line.
  [[nodiscard]] tl::expected<std::string, std::string> queue_url(const std::string& name);

 private:
  aws::AwsConfig config_;
  std::shared_ptr<aws::HttpClient> http_;
  std::shared_ptr<aws::CredentialsProvider> credentials_;
  std::optional<aws::S3Client> s3_;
  std::optional<aws::DynamoDbClient> dynamodb_;
  std::optional<aws::SqsClient> sqs_;
};

}  // namespace salesflow::app
