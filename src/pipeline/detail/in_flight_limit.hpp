#pragma once
// How many sink requests one object keeps in flight: found while it runs,
// not set by hand.
//
// Why: the reader makes requests as fast as the CPU lets it; by Little's law
// it needs (requests/s) × (time in flight) of them outstanding never to wait.
// That is a handful against a loopback endpoint, and a hundred or more at
// 10 ms. Too few leaves the table idle; too many only queue (in libcurl's
// connection pool, in the rate limiter, at the server) and cost CPU and
// memory without a request more per second.
//
// How, a delay-based controller (as TCP Vegas, and the "gradient" limits of
// Netflix's concurrency-limits, decide from round-trip times): every request
// that completes reports how long it was in flight. The no-load time is the
// least of those seen in the last `window` (two halves, the older one
// forgotten as a new one begins); the current time is a moving average of
// the last few.
//   - Grow, only while requests were held back by the limit (the window was
//     full when one completed: the limit, not the reader, bounds the rate)
//     and the current time is within (1 + queueing_tolerance) of the no-load
//     time: by one per completion until the first cut (doubling per round
//     trip, a slow start), by 1/limit per completion after it (one per
//     round trip). A slow start begins again when a half-window's least
//     time is beyond the bound of the one it replaces (a slower path).
//   - Cut, when the current time is beyond that bound: to
//     limit × bound / current (at most halved), at most once per current
//     time, so one cut has its effect before the next is decided.
// It stays within [floor, ceiling] (a ceiling of 1 keeps strict order).
//
// Cost: a few arithmetic operations per completion, no allocation. Not
// thread-safe: the caller holds its own lock.

#include <chrono>
#include <cstddef>

namespace salesflow::pipeline::detail {

struct InFlightLimitOptions {
  std::size_t initial = 8;
  std::size_t floor = 2;
  std::size_t ceiling = 256;
  // A current time up to (1 + this) × the no-load time counts as no queueing.
  double queueing_tolerance = 1.0;
  // How long a no-load time is remembered (it is forgotten so that a slower
  // path found later is not taken for queueing for ever).
  std::chrono::steady_clock::duration window = std::chrono::seconds(10);
};

class InFlightLimit {
 public:
  using Clock = std::chrono::steady_clock;

  explicit InFlightLimit(InFlightLimitOptions options, Clock::time_point now = Clock::now());

  // Requests that may be in flight now; within [floor, ceiling].
  [[nodiscard]] std::size_t limit() const;
  // The highest limit() so far.
  [[nodiscard]] std::size_t highest() const { return static_cast<std::size_t>(highest_); }

  // A request completed at `now` after `elapsed` in flight; `window_full`:
  // as many requests as the limit were in flight when it completed.
  void completed(Clock::duration elapsed, bool window_full, Clock::time_point now);

  // Cuts so far (for tests).
  [[nodiscard]] std::size_t cuts() const { return cuts_; }

 private:
  [[nodiscard]] double no_load_seconds() const;
  // The longest time in flight that is not taken for queueing, next to `no_load`.
  [[nodiscard]] double queueing_bound(double no_load) const {
    return no_load * (1.0 + options_.queueing_tolerance);
  }

  InFlightLimitOptions options_;
  double limit_;
  double highest_;
  double current_seconds_ = 0;         // moving average; 0 before the first sample
  double least_seconds_ = 0;           // this half-window's least; 0: none yet
  double previous_least_seconds_ = 0;  // the previous half-window's; 0: none
  Clock::time_point half_window_start_;
  Clock::time_point last_cut_{};
  bool slow_start_ = true;
  std::size_t cuts_ = 0;
};

}  // namespace salesflow::pipeline::detail
