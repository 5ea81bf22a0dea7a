#pragma once
// AwsClients: the AWS clients of one salesflow process, built from one
// configuration (the standard AWS environment and the command's settings,
// resolved into an aws::AwsConfig). It owns what the clients share, one HTTP
// client (one I/O thread, one connection pool) and one credentials chain, and
// the three service clients built on them; each client holds its own
// aws::ClientConfig and aws::ServiceRuntime (src/aws/service.hpp). A command
// makes one and lends it to everything that calls AWS: the job environment
// (pipeline::JobEnvironment), the worker, the Lambda function.

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
#include "core/rules.hpp"
#include "pipeline/job_environment.hpp"
#include "pipeline/observer.hpp"

namespace salesflow::app {

class AwsClients {
 public:
  // Errors are one line for the user (no region, a bad endpoint URL, ...).
  // `observer`, when given, is told about every AWS call (metrics).
  [[nodiscard]] static tl::expected<std::unique_ptr<AwsClients>, std::string> create(
      const Settings& settings, std::shared_ptr<aws::RequestObserver> observer = nullptr);
  AwsClients() = default;  // empty; use create()
  // Shuts the HTTP client down first (every pending call completed, the I/O
  // thread joined), also when in-flight calls still share it: no AWS
  // completion or request observer runs once the clients are gone, so what
  // they call (metrics, sinks) may be destroyed right after it.
  ~AwsClients();
  AwsClients(const AwsClients&) = delete;
  AwsClients& operator=(const AwsClients&) = delete;

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

// The job environment of a command that runs objects (worker, process,
// lambda) on these clients: the settings translated into
// pipeline::JobOptions, the DLQ's URL resolved (an error, one line, when it
// cannot be). `observer` (borrowed, may be null) is told what happens to every
// object run with it; `aws` must outlive it.
[[nodiscard]] tl::expected<std::unique_ptr<pipeline::JobEnvironment>, std::string>
make_job_environment(AwsClients& aws, const Settings& settings, core::Rules rules,
                     pipeline::Observer* observer);

}  // namespace salesflow::app
