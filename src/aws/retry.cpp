#include "aws/retry.hpp"

#include <algorithm>
#include <array>

namespace salesflow::aws {

namespace {

constexpr std::array<std::string_view, 16> kThrottlingCodes = {
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottledException",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "TransactionInProgressException",
    "RequestLimitExceeded",
    "BandwidthLimitExceeded",
    "LimitExceededException",
    "RequestThrottled",
    "SlowDown",
    "PriorRequestNotComplete",
    "EC2ThrottledException",
    "ThrottlingError",
    "AWS.SimpleQueueService.RequestThrottled",
};

constexpr std::array<std::string_view, 11> kTransientCodes = {
    "RequestTimeTooSkewed",  // clock skew: the next attempt signs with a fresh time
    "RequestTimeout",        "RequestTimeoutException",     "InternalError",
    "InternalFailure",       "InternalServerError",         "ServiceUnavailable",
    "IDPCommunicationError", "ServiceUnavailableException", "Timeout",
    "ConnectionReset",
};

}  // namespace

bool is_throttling_code(std::string_view code) {
  return std::find(kThrottlingCodes.begin(), kThrottlingCodes.end(), code) !=
         kThrottlingCodes.end();
}

bool is_timeout(const AwsError& error) {
  return error.http_status == 0 && (error.code == "Timeout" || error.code == "ConnectFailed");
}

std::optional<AwsError> throttling_outlasted(const std::optional<AwsError>& throttling,
                                             const AwsError& last) {
  if (!throttling || !is_throttling_code(throttling->code)) return std::nullopt;
  if (!is_timeout(last) && last.code != "DeadlineExceeded") return std::nullopt;
  AwsError reason = *throttling;
  reason.message += " (then out of time: " + last.to_string() + ")";
  return reason;
}

bool is_retryable(const AwsError& error) {
  if (is_throttling_code(error.code)) return true;
  if (std::find(kTransientCodes.begin(), kTransientCodes.end(), error.code) !=
      kTransientCodes.end())
    return true;
  switch (error.http_status) {
    case 429:
    case 500:
    case 502:
    case 503:
    case 504:
      return true;
    case 0:
      return error.retryable;  // transport failure, classified by the transport
    default:
      return false;
  }
}

std::chrono::milliseconds backoff_delay(int retry, const RetryPolicy& policy,
                                        std::mt19937_64& rng) {
  const auto cap = std::max<std::int64_t>(policy.max_backoff.count(), 0);
  const int shift = std::clamp(retry, 0, 40);
  const std::int64_t base = std::max<std::int64_t>(policy.base_delay.count(), 0);
  // Saturate instead of overflowing once base * 2^shift passes the cap.
  const std::int64_t ceiling =
      (base != 0 && shift < 62 && base <= (cap >> shift)) ? base << shift : cap;
  std::uniform_int_distribution<std::int64_t> jitter(0, std::min(ceiling, cap));
  return std::chrono::milliseconds(jitter(rng));
}

RetryQuota::RetryQuota(int capacity) : capacity_(capacity), tokens_(capacity) {}

std::optional<int> RetryQuota::acquire(const AwsError& error) {
  if (is_throttling_code(error.code)) return 0;
  const int cost = is_timeout(error) ? kTimeoutCost : kRetryCost;
  const std::lock_guard lock(mutex_);
  if (tokens_ < cost) return std::nullopt;
  tokens_ -= cost;
  return cost;
}

void RetryQuota::release(int last_retry_cost) {
  const std::lock_guard lock(mutex_);
  tokens_ =
      std::min(capacity_, tokens_ + (last_retry_cost > 0 ? last_retry_cost : kSuccessIncrement));
}

int RetryQuota::available() const {
  const std::lock_guard lock(mutex_);
  return tokens_;
}

RetryStrategy::RetryStrategy(std::uint64_t seed, int quota_capacity)
    : quota_(quota_capacity), rng_(seed) {}

RetryStrategy::RetryStrategy() : RetryStrategy(std::random_device{}()) {}

std::chrono::milliseconds RetryStrategy::backoff(int retry, const RetryPolicy& policy) {
  const std::lock_guard lock(rng_mutex_);
  return backoff_delay(retry, policy, rng_);
}

RetryStrategy::Decision RetryStrategy::decide(const AwsError& error, int attempts,
                                              const RetryPolicy& policy,
                                              std::optional<std::chrono::milliseconds> remaining) {
  Decision decision;
  if (!is_retryable(error)) {
    decision.why = "not retryable";
    return decision;
  }
  if (attempts >= policy.max_attempts) {
    decision.why = "max attempts reached";
    return decision;
  }
  {
    const std::lock_guard lock(rng_mutex_);
    decision.delay = backoff_delay(attempts - 1, policy, rng_);
  }
  if (remaining && decision.delay >= *remaining) {
    decision.why = "deadline reached";
    return decision;
  }
  const auto cost = quota_.acquire(error);
  if (!cost) {
    decision.why = "retry quota exhausted";
    return decision;
  }
  decision.retry = true;
  decision.cost = *cost;
  return decision;
}

}  // namespace salesflow::aws
