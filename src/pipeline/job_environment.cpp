#include "pipeline/job_environment.hpp"

#include <fmt/core.h>
#include <unistd.h>

#include <array>
#include <random>
#include <utility>

namespace salesflow::pipeline {
namespace {

DynamoDbSinkOptions item_options(DynamoDbSinkOptions options, const core::Rules& rules) {
  options.partition_key_attribute = rules.partition_key.attribute;
  return options;
}

}  // namespace

std::string JobEnvironment::make_owner() {
  std::array<char, 256> host{};
  ::gethostname(host.data(), host.size() - 1);
  std::random_device random;
  return fmt::format("{}/{}/{:08x}", host.data(), ::getpid(), random());
}

JobEnvironment::JobEnvironment(JobClients clients, core::Rules rules, JobOptions options)
    : s3_(clients.s3),
      rules_(std::move(rules)),
      options_(std::move(options.processor)),
      ledger_(clients.dynamodb, std::move(options.ledger_table),
              options.owner.empty() ? make_owner() : std::move(options.owner), options.lease),
      items_(clients.dynamodb, item_options(std::move(options.items), rules_)),
      messages_(clients.sqs, std::move(options.dlq_url), options_.envelopes.max_message_bytes),
      blobs_(clients.s3) {}

}  // namespace salesflow::pipeline
