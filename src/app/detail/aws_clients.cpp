#include "app/detail/aws_clients.hpp"

#include <fmt/core.h>

#include <utility>

namespace salesflow::app {

tl::expected<std::unique_ptr<AwsClients>, std::string> AwsClients::create(
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
  auto clients = std::make_unique<AwsClients>();
  clients->config_ = std::move(*config);
  aws::HttpOptions http_options;
  http_options.ca_bundle = clients->config_.ca_bundle;
  // Names salesflow, its release and the command in every request: CloudTrail
  // shows which command of which release made a call, and the local stack's
  // operation log tells salesflow's calls from the tests' own.
  http_options.user_agent = fmt::format("salesflow/{} command/{}", SALESFLOW_VERSION,
                                        settings.command.empty() ? "none" : settings.command);
  clients->http_ = std::make_shared<aws::HttpClient>(std::move(http_options));
  aws::ProviderOptions credential_options;
  if (observer) {
    credential_options.on_refresh_failure = [observer](const aws::AwsError& error,
                                                       std::chrono::seconds valid_for) {
      observer->on_credentials_refresh_failure(error, valid_for);
    };
  }
  clients->credentials_ =
      aws::make_credentials_chain(clients->config_, env, std::move(credential_options));

  const auto client_config = [&](const aws::Endpoint& endpoint) {
    aws::ClientConfig client;
    client.http = clients->http_;
    client.credentials = clients->credentials_;
    client.region = clients->config_.region;
    client.endpoint_url = endpoint.is_custom ? endpoint.url() : std::string();
    // DynamoDB throttles by design under load; the SDKs retry it 10 times.
    client.retry.max_attempts = 10;
    client.observer = observer;
    return client;
  };
  auto s3 =
      aws::S3Client::create(client_config(clients->config_.s3), clients->config_.s3_path_style);
  if (!s3) {
    return tl::make_unexpected("S3: " + s3.error().message);
  }
  auto dynamodb = aws::DynamoDbClient::create(client_config(clients->config_.dynamodb));
  if (!dynamodb) {
    return tl::make_unexpected("DynamoDB: " + dynamodb.error().message);
  }
  auto sqs = aws::SqsClient::create(client_config(clients->config_.sqs));
  if (!sqs) {
    return tl::make_unexpected("SQS: " + sqs.error().message);
  }
  clients->s3_.emplace(std::move(*s3));
  clients->dynamodb_.emplace(std::move(*dynamodb));
  clients->sqs_.emplace(std::move(*sqs));
  return clients;
}

AwsClients::~AwsClients() {
  if (http_) {
    http_->shutdown();
  }
}

tl::expected<std::string, std::string> AwsClients::queue_url(const std::string& name) {
  auto url = sqs_->get_queue_url(name);
  if (!url) {
    return tl::make_unexpected("queue " + name + ": " + url.error().to_string());
  }
  return *url;
}

namespace {

pipeline::JobOptions job_options(const Settings& settings, std::string dlq_url,
                                 pipeline::Observer* observer) {
  pipeline::JobOptions options;
  options.ledger_table = settings.resources.ledger_table;
  options.lease = std::chrono::seconds(settings.lease_s);
  options.dlq_url = std::move(dlq_url);
  options.items.table = settings.resources.table;
  options.items.reject_conflicts = settings.on_conflict == ConflictMode::reject;
  pipeline::ProcessorOptions& processor = options.processor;
  processor.observer = observer;
  processor.reader = reader_options(settings);
  processor.max_requests_in_flight = static_cast<std::size_t>(settings.requests_in_flight);
  processor.checkpoint_every = settings.checkpoint_every;
  processor.duplicate_tracking = duplicate_tracking_options(settings, settings.objects_in_flight);
  processor.keep_raw_for_conflicts = settings.on_conflict == ConflictMode::reject;
  processor.envelopes.max_message_bytes = settings.dlq_max_message_bytes;
  processor.envelopes.offload_bucket = settings.resources.offload_bucket_name();
  processor.envelopes.offload_prefix = settings.resources.offload_prefix;
  return options;
}

}  // namespace

tl::expected<std::unique_ptr<pipeline::JobEnvironment>, std::string> make_job_environment(
    AwsClients& aws, const Settings& settings, core::Rules rules, pipeline::Observer* observer) {
  auto dlq = aws.queue_url(settings.resources.dlq);
  if (!dlq) {
    return tl::make_unexpected(dlq.error());
  }
  return std::make_unique<pipeline::JobEnvironment>(
      pipeline::JobClients{aws.s3(), aws.dynamodb(), aws.sqs()}, std::move(rules),
      job_options(settings, std::move(*dlq), observer));
}

}  // namespace salesflow::app
