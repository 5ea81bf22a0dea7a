// The adaptive in-flight limit against simulated endpoints: a reader that can
// make `produce_per_s` requests a second, and a server that serves
// `serve_per_s` of them in turn (FIFO) and answers `latency` after serving.
// Time is simulated, so every figure is exact and the test takes no time.
#include "pipeline/detail/in_flight_limit.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <functional>
#include <queue>
#include <vector>

namespace salesflow::pipeline::detail {
namespace {

using Clock = InFlightLimit::Clock;
using std::chrono::duration;
using std::chrono::duration_cast;

struct Endpoint {
  double produce_per_s = 5000;
  double serve_per_s = 1e9;
  double latency_s = 0.010;
};

struct Phase {
  Endpoint endpoint;
  double seconds = 5;
};

struct PhaseResult {
  double sent_per_s_last_half = 0;  // requests sent per second over the phase's second half
  double mean_in_flight_s = 0;      // mean time in flight over the second half
  std::size_t limit_at_end = 0;
  std::size_t highest_limit = 0;  // so far, earlier phases included
};

class Simulation {
 public:
  explicit Simulation(InFlightLimitOptions options) : limit_(options, origin_) {}

  PhaseResult run(const Phase& phase) {
    const double end = now_ + phase.seconds;
    const double half = now_ + phase.seconds / 2;
    PhaseResult result;
    std::size_t sent_late = 0;
    double in_flight_time_late = 0;
    std::size_t completed_late = 0;
    ready_at_ = std::max(ready_at_, now_);
    while (now_ < end) {
      const bool can_send = completions_.size() < limit_.limit();
      const double next_completion =
          completions_.empty() ? end : std::min(end, completions_.top().done_at);
      if (can_send && ready_at_ <= next_completion) {
        now_ = std::max(now_, ready_at_);
        if (now_ >= end) {
          break;
        }
        const double start = std::max(now_, server_free_at_);
        server_free_at_ = start + 1.0 / phase.endpoint.serve_per_s;
        completions_.push(Request{now_, server_free_at_ + phase.endpoint.latency_s});
        if (now_ >= half) {
          ++sent_late;
        }
        ready_at_ = now_ + 1.0 / phase.endpoint.produce_per_s;
        continue;
      }
      if (completions_.empty() || completions_.top().done_at > end) {
        now_ = end;
        break;
      }
      const Request request = completions_.top();
      completions_.pop();
      now_ = request.done_at;
      const bool window_full = completions_.size() + 1 >= limit_.limit();
      limit_.completed(at(now_) - at(request.sent_at), window_full, at(now_));
      if (now_ >= half) {
        in_flight_time_late += request.done_at - request.sent_at;
        ++completed_late;
      }
    }
    result.sent_per_s_last_half = static_cast<double>(sent_late) / (end - half);
    result.mean_in_flight_s =
        completed_late == 0 ? 0 : in_flight_time_late / static_cast<double>(completed_late);
    result.limit_at_end = limit_.limit();
    result.highest_limit = limit_.highest();
    return result;
  }

  [[nodiscard]] const InFlightLimit& limit() const { return limit_; }

 private:
  struct Request {
    double sent_at;
    double done_at;
  };
  struct Later {
    bool operator()(const Request& a, const Request& b) const { return a.done_at > b.done_at; }
  };

  [[nodiscard]] Clock::time_point at(double seconds) const {
    return origin_ + duration_cast<Clock::duration>(duration<double>(seconds));
  }

  Clock::time_point origin_{};
  InFlightLimit limit_;
  double now_ = 0;
  double ready_at_ = 0;
  double server_free_at_ = 0;
  std::priority_queue<Request, std::vector<Request>, Later> completions_;
};

InFlightLimitOptions ceiling(std::size_t most) {
  InFlightLimitOptions options;
  options.ceiling = most;
  return options;
}

TEST(InFlightLimit, StaysWithinFloorAndCeilingWhateverItIsTold) {
  InFlightLimitOptions options;
  options.initial = 1000;
  options.floor = 3;
  options.ceiling = 10;
  options.window = std::chrono::hours(24);  // the first, fast samples stay the no-load time
  InFlightLimit limit(options, Clock::time_point{});
  EXPECT_EQ(limit.limit(), 10U);
  Clock::time_point now{};
  for (int i = 0; i < 1000; ++i) {
    now += std::chrono::milliseconds(1);
    limit.completed(std::chrono::microseconds(100), true, now);
  }
  EXPECT_EQ(limit.limit(), 10U);
  for (int i = 0; i < 100; ++i) {
    const auto elapsed = std::chrono::seconds(1 + i);  // ever slower: queueing
    now += elapsed;
    limit.completed(elapsed, true, now);
  }
  EXPECT_EQ(limit.limit(), 3U);
  EXPECT_GT(limit.cuts(), 0U);
}

TEST(InFlightLimit, ACeilingOfOneKeepsOneRequestInFlight) {
  InFlightLimitOptions options;
  options.ceiling = 1;
  Simulation simulation(options);
  const PhaseResult result = simulation.run({Endpoint{5000, 1e9, 0.010}, 2});
  EXPECT_EQ(result.highest_limit, 1U);
  EXPECT_NEAR(result.sent_per_s_last_half, 1 / 0.010, 1);  // one per round trip
}

// Little's law: 5,000 requests/s at 10 ms need 50 in flight. The limit finds
// them from 8 and does not wander far above.
TEST(InFlightLimit, FindsWhatLittlesLawNeedsAtTenMilliseconds) {
  Simulation simulation(ceiling(1024));
  const PhaseResult result = simulation.run({Endpoint{5000, 1e9, 0.010}, 5});
  EXPECT_GE(result.sent_per_s_last_half, 0.99 * 5000);
  EXPECT_GE(result.limit_at_end, 50U);
  EXPECT_LE(result.highest_limit, 200U);
}

// The same reader against a server that serves only 2,000 a second: the
// limit stops where the server's queue starts, instead of at the ceiling.
TEST(InFlightLimit, StopsWhereTheServerStartsToQueue) {
  Simulation simulation(ceiling(1024));
  const PhaseResult result = simulation.run({Endpoint{5000, 2000, 0.010}, 10});
  EXPECT_GE(result.sent_per_s_last_half, 0.95 * 2000);
  EXPECT_LE(result.mean_in_flight_s, 3 * 0.010) << "requests queue at the server";
  EXPECT_LE(result.limit_at_end, 100U);
}

// A loopback endpoint (0.1 ms): a few in flight carry the whole rate, and the
// limit does not grow a queue of hundreds.
TEST(InFlightLimit, KeepsFewInFlightAtANearbyEndpoint) {
  Simulation simulation(ceiling(1024));
  const PhaseResult result = simulation.run({Endpoint{5000, 8000, 0.0001}, 5});
  EXPECT_GE(result.sent_per_s_last_half, 0.99 * 5000);
  EXPECT_LE(result.highest_limit, 32U);
}

// The same endpoint with a reader faster than the server: the server is kept
// busy with a handful in flight.
TEST(InFlightLimit, KeepsANearbyServerBusyWithAFewInFlight) {
  Simulation simulation(ceiling(1024));
  const PhaseResult result = simulation.run({Endpoint{10000, 8000, 0.0001}, 5});
  EXPECT_GE(result.sent_per_s_last_half, 0.95 * 8000);
  EXPECT_LE(result.highest_limit, 32U);
  EXPECT_LE(result.mean_in_flight_s, 0.001);
}

// When the reader is what bounds the rate (the window never fills), the
// limit has no reason to grow.
TEST(InFlightLimit, DoesNotGrowWhileTheReaderIsTheBound) {
  Simulation simulation(ceiling(1024));
  const PhaseResult result = simulation.run({Endpoint{200, 1e9, 0.010}, 5});
  EXPECT_GE(result.sent_per_s_last_half, 0.99 * 200);
  EXPECT_EQ(result.highest_limit, 8U);  // the initial limit; 2 in flight on average
}

// The path gets slower (1 ms, then 20 ms): once the no-load time of the fast
// path is forgotten, the limit grows to the new path's need (100).
TEST(InFlightLimit, FollowsAPathThatGetsSlower) {
  Simulation simulation(ceiling(1024));
  const PhaseResult fast = simulation.run({Endpoint{5000, 1e9, 0.001}, 5});
  EXPECT_GE(fast.sent_per_s_last_half, 0.99 * 5000);
  EXPECT_LE(fast.limit_at_end, 40U);
  const PhaseResult slow = simulation.run({Endpoint{5000, 1e9, 0.020}, 30});
  EXPECT_GE(slow.sent_per_s_last_half, 0.99 * 5000);
  EXPECT_GE(slow.limit_at_end, 100U);
}

}  // namespace
}  // namespace salesflow::pipeline::detail
