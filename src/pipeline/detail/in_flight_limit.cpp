#include "pipeline/detail/in_flight_limit.hpp"

#include <algorithm>

namespace salesflow::pipeline::detail {

namespace {

// The moving average's weight of a new sample (as TCP's smoothed RTT: 1/8).
constexpr double kSampleWeight = 0.125;
// A cut never takes more than half the limit away.
constexpr double kLeastCutFactor = 0.5;

double seconds(InFlightLimit::Clock::duration duration) {
  return std::chrono::duration<double>(duration).count();
}

}  // namespace

InFlightLimit::InFlightLimit(InFlightLimitOptions options, Clock::time_point now)
    : options_(options), half_window_start_(now) {
  options_.ceiling = std::max<std::size_t>(options_.ceiling, 1);
  options_.floor = std::clamp<std::size_t>(options_.floor, 1, options_.ceiling);
  limit_ = static_cast<double>(std::clamp(options_.initial, options_.floor, options_.ceiling));
  highest_ = limit_;
}

std::size_t InFlightLimit::limit() const {
  return static_cast<std::size_t>(limit_);
}

double InFlightLimit::no_load_seconds() const {
  if (previous_least_seconds_ == 0) {
    return least_seconds_;
  }
  if (least_seconds_ == 0) {
    return previous_least_seconds_;
  }
  return std::min(least_seconds_, previous_least_seconds_);
}

void InFlightLimit::completed(Clock::duration elapsed, bool window_full, Clock::time_point now) {
  // A zero-length sample (a coarse clock) would make every later one look queued.
  const double sample = std::max(seconds(elapsed), 1e-6);
  if (now - half_window_start_ >= options_.window / 2) {
    // A half-window whose least is well above the one it replaces found a
    // slower path, not a queue: find its need quickly again.
    if (previous_least_seconds_ != 0 && least_seconds_ > queueing_bound(previous_least_seconds_)) {
      slow_start_ = true;
    }
    previous_least_seconds_ = least_seconds_;
    least_seconds_ = 0;
    half_window_start_ = now;
  }
  least_seconds_ = least_seconds_ == 0 ? sample : std::min(least_seconds_, sample);
  current_seconds_ = current_seconds_ == 0
                         ? sample
                         : current_seconds_ + kSampleWeight * (sample - current_seconds_);

  const double bound = queueing_bound(no_load_seconds());
  const auto floor = static_cast<double>(options_.floor);
  const auto ceiling = static_cast<double>(options_.ceiling);
  if (current_seconds_ > bound) {
    const bool cut_has_had_its_effect = cuts_ == 0 || seconds(now - last_cut_) >= current_seconds_;
    if (cut_has_had_its_effect && limit_ > floor) {
      limit_ = std::max(floor, limit_ * std::max(kLeastCutFactor, bound / current_seconds_));
      last_cut_ = now;
      slow_start_ = false;
      ++cuts_;
    }
    return;
  }
  if (window_full) {
    limit_ = std::min(ceiling, limit_ + (slow_start_ ? 1.0 : 1.0 / limit_));
    highest_ = std::max(highest_, limit_);
  }
}

}  // namespace salesflow::pipeline::detail
