#include "aws/rate_limiter.hpp"

#include <algorithm>
#include <cmath>

namespace salesflow::aws {

double AdaptiveRateLimiter::seconds(Clock::time_point t) const {
  return std::chrono::duration<double>(t - origin_).count();
}

void AdaptiveRateLimiter::refill(double now) {
  if (now > last_refill_) {
    capacity_ = std::min(max_capacity_, capacity_ + (now - last_refill_) * fill_rate_);
    last_refill_ = now;
  }
}

AdaptiveRateLimiter::Reservation AdaptiveRateLimiter::reserve(Clock::time_point now) {
  const std::scoped_lock lock(mutex_);
  if (!have_origin_) {
    origin_ = now;
    have_origin_ = true;
  }
  Reservation reservation;
  reservation.generation = generation_;
  if (!enabled_) return reservation;
  const double t = seconds(now);
  refill(t);
  capacity_ -= 1;
  if (capacity_ >= 0) return reservation;
  // The token is taken now and paid back by the fill: later reservations
  // queue behind it, spaced 1 / fill_rate apart.
  reservation.wait = std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double>(-capacity_ / fill_rate_));
  return reservation;
}

bool AdaptiveRateLimiter::holds(const Reservation& reservation) const {
  const std::scoped_lock lock(mutex_);
  return reservation.generation == generation_;
}

void AdaptiveRateLimiter::update_measured_rate(double now) {
  const double bucket = std::floor(now / kMeasureBucket) * kMeasureBucket;
  measure_count_ += 1;
  if (bucket > measure_bucket_) {
    const double rate = measure_count_ / (bucket - measure_bucket_);
    measured_rate_ = measured_ ? rate * kSmooth + measured_rate_ * (1 - kSmooth) : rate;
    measured_ = true;
    measure_count_ = 0;
    measure_bucket_ = bucket;
  }
}

double AdaptiveRateLimiter::measured_rate(double now) const {
  if (measured_) return measured_rate_;
  // Within the first bucket: what was answered so far, over at least 50 ms.
  return measure_count_ / std::max(now - measure_bucket_, 0.05);
}

void AdaptiveRateLimiter::set_fill_rate(double now, double rate) {
  refill(now);
  fill_rate_ = std::max(rate, kMinFillRate);
  max_capacity_ = std::max(rate, kMinCapacity);
  capacity_ = std::min(capacity_, max_capacity_);
}

void AdaptiveRateLimiter::on_response(Clock::time_point now, bool throttled,
                                      std::uint64_t sent_at) {
  const std::scoped_lock lock(mutex_);
  if (!have_origin_) {
    origin_ = now;
    have_origin_ = true;
  }
  const double t = seconds(now);
  update_measured_rate(t);
  const double measured = measured_rate(t);
  // The answer to a request sent before the last cut: nothing new.
  if (throttled && sent_at != generation_) return;
  double rate = 0;
  if (throttled) {
    // The rate that was too much: what was sent, or what was admitted if less.
    const double too_much = enabled_ ? std::min(measured, fill_rate_) : measured;
    last_max_rate_ = too_much;
    last_throttle_ = t;
    rate = too_much * kBeta;
    enabled_ = true;
    last_refill_ = t;
    capacity_ = 0;  // reservations at the old rate are void (see holds)
    ++generation_;
  } else {
    if (!enabled_) return;
    // Seconds from the cut back up to last_max_rate_: the cubic's inflection.
    const double time_window = std::cbrt(last_max_rate_ * (1 - kBeta) / kScale);
    rate = kScale * std::pow(t - last_throttle_ - time_window, 3) + last_max_rate_;
  }
  // Never more than twice what is being sent: a quiet client does not build
  // up a rate it has not shown the service can take.
  set_fill_rate(t, std::min(rate, 2 * measured));
}

double AdaptiveRateLimiter::fill_rate() const {
  const std::scoped_lock lock(mutex_);
  return fill_rate_;
}

bool AdaptiveRateLimiter::enabled() const {
  const std::scoped_lock lock(mutex_);
  return enabled_;
}

}  // namespace salesflow::aws
