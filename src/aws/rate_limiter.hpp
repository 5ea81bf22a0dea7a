#pragma once
// The client-side sending rate of the AWS SDKs' "adaptive" retry mode: a token
// bucket whose fill rate follows CUBIC congestion control. Until the service
// first throttles, it admits everything at once. On a throttle the rate drops
// to BETA (0.7) times what the client was measured to send; between throttles
// it grows back along a cubic curve that flattens near the rate of the last
// throttle and probes beyond it afterwards. Many clients sharing one table's
// capacity (several workers, many Lambda environments) each back off on their
// own throttles and so converge on a share of it instead of storming it with
// retries.
//
// It never blocks: reserve() says how long the caller should wait before
// sending (the wait runs on the HttpClient's timers) and takes the token at
// once, so requests reserved together are spaced at the fill rate.
//
// Two departures from the SDKs' algorithm, each for a failure it showed in
// tests/aws/rate_limiter_test.cpp (a simulated minute against a fixed
// capacity): (1) a throttle lowers the rate only if its request was sent
// after the last cut — the answers to requests already on their way say
// nothing about the new rate, and cutting once for each of them took the
// rate to nearly zero (0.7^k) and a client to half its capacity; (2) a cut
// voids the reservations queued at the old rate (their holders reserve
// again), and before the first half-second of measurements the rate is
// estimated from what was answered so far instead of taken as zero.
//
// Cost: O(1) per call under one mutex. Times are passed in, so the behaviour
// can be tested without a clock.

#include <chrono>
#include <cstdint>
#include <mutex>

namespace salesflow::aws {

class AdaptiveRateLimiter {
 public:
  using Clock = std::chrono::steady_clock;

  struct Reservation {
    Clock::duration wait{};        // before sending; zero: send now
    std::uint64_t generation = 0;  // the rate it was made at
  };
  // A turn for one request that is to start at `now`: zero wait until the
  // first throttle, and whenever a token is there.
  [[nodiscard]] Reservation reserve(Clock::time_point now);
  // Whether a reservation still holds: false once the rate was cut after it
  // was made (reserve again).
  [[nodiscard]] bool holds(const Reservation& reservation) const;

  // The outcome of one request, answered at `now`: `throttled` when the
  // service asked to slow down (a throttling error, or a batch that handed
  // back items for want of capacity); `sent_at` is the generation of the
  // reservation the request was sent with.
  void on_response(Clock::time_point now, bool throttled, std::uint64_t sent_at);

  // Requests per second admitted (meaningful once enabled).
  [[nodiscard]] double fill_rate() const;
  [[nodiscard]] bool enabled() const;

  static constexpr double kBeta = 0.7;           // multiplicative decrease
  static constexpr double kScale = 0.4;          // cubic growth constant
  static constexpr double kSmooth = 0.8;         // weight of the newest measurement
  static constexpr double kMinFillRate = 0.5;    // requests/s, never below
  static constexpr double kMinCapacity = 1.0;    // tokens
  static constexpr double kMeasureBucket = 0.5;  // seconds per rate measurement

 private:
  double seconds(Clock::time_point t) const;
  void refill(double now);
  void update_measured_rate(double now);
  double measured_rate(double now) const;
  void set_fill_rate(double now, double rate);

  mutable std::mutex mutex_;
  bool have_origin_ = false;
  Clock::time_point origin_{};  // times are seconds since the first call
  bool enabled_ = false;
  double fill_rate_ = 0;     // tokens per second
  double max_capacity_ = 0;  // tokens the bucket holds at most
  double capacity_ = 0;      // tokens now; negative: reserved ahead
  double last_refill_ = 0;
  double measured_rate_ = 0;   // responses per second, smoothed
  bool measured_ = false;      // a whole measurement bucket has passed
  double measure_bucket_ = 0;  // start of the current measurement bucket
  double measure_count_ = 0;
  std::uint64_t generation_ = 0;  // cuts so far
  double last_max_rate_ = 0;      // the rate at the last throttle
  double last_throttle_ = 0;
};

}  // namespace salesflow::aws
