#include "app/aws_context.hpp"

namespace salesflow::app {

tl::expected<std::unique_ptr<AwsContext>, std::string> AwsContext::create(
    const Settings& settings, std::shared_ptr<aws::RequestObserver> observer) {
  const aws::EnvLookup env = aws::process_environment();
  aws::ConfigOverrides overrides;
  if (!settings.region.empty()) {
    overrides.region = settings.region;
  }
  if (!settings.profile.empty()) {
    overrides.profile = settings.profile;
  }
  if (!settings.endpoint_url.empty()) {
    overrides.endpoint_url = settings.endpoint_url;
  }
  auto config = aws::AwsConfig::load(env, overrides);
  if (!config) {
    return tl::make_unexpected(config.error().message);
  }
  auto context = std::make_unique<AwsContext>();
  context->config_ = std::move(*config);
  aws::HttpOptions http_options;
  http_options.ca_bundle = context->config_.ca_bundle;
  context->http_ = std::make_shared<aws::HttpClient>(std::move(http_options));
  aws::ProviderOptions credential_options;
  if (observer) {
    credential_options.on_refresh_failure = [observer](const aws::AwsError& error,
                                                       std::chrono::seconds valid_for) {
      observer->on_credentials_refresh_failure(error, valid_for);
    };
  }
  context->credentials_ =
      aws::make_credentials_chain(context->config_, env, std::move(credential_options));

  const auto client_config = [&](const aws::Endpoint& endpoint) {
    aws::ClientConfig client;
    client.http = context->http_;
    client.credentials = context->credentials_;
    client.region = context->config_.region;
    client.endpoint_url = endpoint.is_custom ? endpoint.url() : std::string();
    // DynamoDB throttles by design under load; the SDKs retry it 10 times.
    client.retry.max_attempts = 10;
    client.observer = observer;
    return client;
  };
  auto s3 =
      aws::S3Client::create(client_config(context->config_.s3), context->config_.s3_path_style);
  if (!s3) {
    return tl::make_unexpected("S3: " + s3.error().message);
  }
  auto dynamodb = aws::DynamoDbClient::create(client_config(context->config_.dynamodb));
  if (!dynamodb) {
    return tl::make_unexpected("DynamoDB: " + dynamodb.error().message);
  }
  auto sqs = aws::SqsClient::create(client_config(context->config_.sqs));
  if (!sqs) {
    return tl::make_unexpected("SQS: " + sqs.error().message);
  }
  context->s3_.emplace(std::move(*s3));
  context->dynamodb_.emplace(std::move(*dynamodb));
  context->sqs_.emplace(std::move(*sqs));
  return context;
}

AwsContext::~AwsContext() {
  if (http_) {
    http_->shutdown();
  }
}

tl::expected<std::string, std::string> AwsContext::queue_url(const std::string& name) {
  auto url = sqs_->get_queue_url(name);
  if (!url) {
    return tl::make_unexpected("queue " + name + ": " + url.error().to_string());
  }
  return *url;
}

}  // namespace salesflow::app
