#include "app/job_runtime.hpp"

#include <fmt/core.h>
#include <unistd.h>

#include <array>
#include <random>

namespace salesflow::app {
namespace {

pipeline::DynamoDbSinkOptions sink_options(const Settings& settings, const core::Rules& rules) {
  pipeline::DynamoDbSinkOptions options;
  options.table = settings.resources.table;
  options.reject_conflicts = settings.on_conflict == ConflictMode::reject;
  options.partition_key_attribute = rules.partition_key.attribute;
  return options;
}

pipeline::ProcessorOptions processor_options(const Settings& settings,
                                             pipeline::Observer* observer) {
  pipeline::ProcessorOptions options;
  options.observer = observer;
  options.reader = reader_options(settings);
  options.max_requests_in_flight = static_cast<std::size_t>(settings.requests_in_flight);
  options.checkpoint_every = settings.checkpoint_every;
  options.keep_raw_for_conflicts = settings.on_conflict == ConflictMode::reject;
  options.envelopes.max_message_bytes = settings.dlq_max_message_bytes;
  options.envelopes.offload_bucket = settings.resources.offload_bucket_name();
  options.envelopes.offload_prefix = settings.resources.offload_prefix;
  return options;
}

}  // namespace

std::string JobRuntime::make_owner() {
  std::array<char, 256> host{};
  ::gethostname(host.data(), host.size() - 1);
  std::random_device random;
  return fmt::format("{}/{}/{:08x}", host.data(), ::getpid(), random());
}

tl::expected<std::unique_ptr<JobRuntime>, std::string> JobRuntime::create(
    AwsClients& aws, const Settings& settings, const core::Rules& rules,
    pipeline::Observer* observer) {
  auto dlq = aws.queue_url(settings.resources.dlq);
  if (!dlq) {
    return tl::make_unexpected(dlq.error());
  }
  return std::make_unique<JobRuntime>(aws, settings, rules, *dlq, observer);
}

JobRuntime::JobRuntime(AwsClients& aws, const Settings& settings, const core::Rules& rules,
                       std::string dlq_url, pipeline::Observer* observer)
    : ledger_(aws.dynamodb(), settings.resources.ledger_table, make_owner(),
              std::chrono::seconds(settings.lease_s)),
      items_(aws.dynamodb(), sink_options(settings, rules)),
      messages_(aws.sqs(), std::move(dlq_url), settings.dlq_max_message_bytes),
      blobs_(aws.s3()),
      environment_{aws.s3(),  ledger_, items_,
                   messages_, &blobs_, processor_options(settings, observer)} {}

}  // namespace salesflow::app
