#pragma once
// Retries in the manner of the AWS SDKs' "adaptive" mode: which errors are
// worth another attempt, exponential backoff with full jitter, a retry quota
// per client so that an outage does not turn into a retry storm, and a
// client-side sending rate (AdaptiveRateLimiter) that throttling lowers.
// Throttling does not draw on the quota: the rate limiter is what answers it,
// and a table at its capacity is not an outage (draining the quota there
// failed every write of a busy worker within seconds).

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <random>
#include <string_view>

#include "aws/error.hpp"
#include "aws/rate_limiter.hpp"

namespace salesflow::aws {

struct RetryPolicy {
  int max_attempts = 3;  // first attempt included
  std::chrono::milliseconds base_delay{25};
  std::chrono::milliseconds max_backoff{20000};
  // Overall budget of one operation, from its first attempt: no retry starts
  // (and no attempt runs) past it.
  std::optional<std::chrono::milliseconds> deadline{};
};

bool is_throttling_code(std::string_view code);
// Whether another attempt may succeed: 500/502/503/504, 429, throttling and
// transient service codes, and transport failures flagged retryable.
// Validation, authorization and not-found errors are final.
bool is_retryable(const AwsError& error);
bool is_timeout(const AwsError& error);

// An operation the service throttled, that then ran out of time (`last`: a
// timeout, whose length was what was left of the deadline, or the deadline
// itself), failed for want of capacity: its reason is the throttling error,
// with `last` named in the message. nullopt when `throttling` is none or not
// a throttling error, or when `last` is some other error.
[[nodiscard]] std::optional<AwsError> throttling_outlasted(
    const std::optional<AwsError>& throttling, const AwsError& last);

// Full jitter: uniform in [0, min(max_backoff, base_delay * 2^retry)], where
// `retry` counts from 0 for the wait before the second attempt.
std::chrono::milliseconds backoff_delay(int retry, const RetryPolicy& policy, std::mt19937_64& rng);

// Token bucket shared by every operation of one client. Thread-safe.
class RetryQuota {
 public:
  static constexpr int kDefaultCapacity = 500;
  static constexpr int kRetryCost = 5;
  static constexpr int kTimeoutCost = 10;
  static constexpr int kSuccessIncrement = 1;

  explicit RetryQuota(int capacity = kDefaultCapacity);
  // Takes the price of retrying after `error` (nothing for throttling);
  // nullopt when the bucket cannot pay.
  [[nodiscard]] std::optional<int> acquire(const AwsError& error);
  // A success refunds what its last retry cost, or adds kSuccessIncrement when
  // it needed no retry (never above capacity).
  void release(int last_retry_cost);
  int available() const;

 private:
  mutable std::mutex mutex_;
  const int capacity_;
  int tokens_;
};

// Per-client retry state: the quota and the PRNG for jitter (no global state).
class RetryStrategy {
 public:
  explicit RetryStrategy(std::uint64_t seed, int quota_capacity = RetryQuota::kDefaultCapacity);
  RetryStrategy();  // seeded from std::random_device

  struct Decision {
    bool retry = false;
    std::chrono::milliseconds delay{0};
    int cost = 0;          // tokens taken; to refund on success
    std::string_view why;  // when not retrying
  };

  // After attempt number `attempts` (1-based) failed with `error`.
  // `remaining` is what is left of the operation's deadline, if it has one.
  Decision decide(const AwsError& error, int attempts, const RetryPolicy& policy,
                  std::optional<std::chrono::milliseconds> remaining);
  void on_success(int last_retry_cost) { quota_.release(last_retry_cost); }
  // A jittered wait outside the quota (resubmitting unprocessed batch entries).
  std::chrono::milliseconds backoff(int retry, const RetryPolicy& policy);
  RetryQuota& quota() { return quota_; }
  // Every request of the client waits here for its turn once the service
  // has throttled it.
  AdaptiveRateLimiter& rate_limiter() { return rate_limiter_; }

 private:
  RetryQuota quota_;
  AdaptiveRateLimiter rate_limiter_;
  std::mutex rng_mutex_;
  std::mt19937_64 rng_;
};

}  // namespace salesflow::aws
