// AdaptiveRateLimiter: idle until the first throttle, then the CUBIC rate;
// and, in a simulated minute against a service with a fixed capacity, one
// client and several sharing it use most of the capacity with few throttles.
#include "aws/rate_limiter.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <memory>
#include <queue>
#include <vector>

namespace salesflow::aws {
namespace {

using Clock = AdaptiveRateLimiter::Clock;
using namespace std::chrono_literals;

TEST(AdaptiveRateLimiter, AdmitsEverythingUntilTheServiceFirstThrottles) {
  AdaptiveRateLimiter limiter;
  const auto start = Clock::time_point{} + 1h;
  for (int i = 0; i < 1000; ++i) {
    const auto now = start + i * 1ms;
    EXPECT_EQ(limiter.reserve(now).wait, Clock::duration::zero());
    limiter.on_response(now, false, 0);
  }
  EXPECT_FALSE(limiter.enabled());
}

// 100 responses a second for 3 s (the measured rate settles near 100), then
// a throttle; returns the time of the throttle.
Clock::time_point hundred_a_second_then_throttled(AdaptiveRateLimiter& limiter) {
  const auto start = Clock::time_point{} + 1h;
  auto now = start;
  for (int i = 0; i < 300; ++i) {
    now = start + i * 10ms;
    limiter.on_response(now, false, 0);
  }
  limiter.on_response(now, true, 0);
  return now;
}

TEST(AdaptiveRateLimiter, AThrottleCutsTheRateToBetaOfWhatWasSentAndSpacesRequests) {
  AdaptiveRateLimiter limiter;
  const auto now = hundred_a_second_then_throttled(limiter);
  ASSERT_TRUE(limiter.enabled());
  EXPECT_NEAR(limiter.fill_rate(), 100 * AdaptiveRateLimiter::kBeta, 8);
  // Reservations made at one moment queue up 1 / rate apart.
  const double rate = limiter.fill_rate();
  Clock::duration last = Clock::duration::zero();
  std::vector<AdaptiveRateLimiter::Reservation> turns;
  for (int i = 0; i < 10; ++i) {
    turns.push_back(limiter.reserve(now));
    EXPECT_GE(turns.back().wait, last);
    last = turns.back().wait;
  }
  EXPECT_NEAR(std::chrono::duration<double>(last).count(), 10 / rate, 2 / rate);
  // The answers to requests sent before the cut do not cut again.
  limiter.on_response(now + 1ms, true, 0);
  limiter.on_response(now + 2ms, true, 0);
  EXPECT_DOUBLE_EQ(limiter.fill_rate(), rate);
  // A throttle of a request sent after it does, and voids the queued turns.
  limiter.on_response(now + 3ms, true, turns.back().generation);
  EXPECT_LT(limiter.fill_rate(), rate);
  EXPECT_FALSE(limiter.holds(turns.back()));
  EXPECT_TRUE(limiter.holds(limiter.reserve(now + 4ms)));
}

TEST(AdaptiveRateLimiter, GrowsBackAlongTheCubicCurveWithoutThrottles) {
  AdaptiveRateLimiter limiter;
  auto now = hundred_a_second_then_throttled(limiter);
  const double after_throttle = limiter.fill_rate();
  // Keep answering at the admitted rate: the rate climbs back past where it was cut.
  double rate = after_throttle;
  for (int step = 0; step < 800; ++step) {
    now += 10ms;
    limiter.on_response(now, false, 1);
    rate = limiter.fill_rate();
  }
  EXPECT_GT(rate, after_throttle);
  EXPECT_GT(rate, 100 * 0.95);
}

// A discrete-event minute: `clients` closed-loop clients, each keeping
// `in_flight` requests going through its own limiter, against one service
// whose capacity is a token bucket of `capacity` requests per second with one
// second of burst (DynamoDB's provisioned capacity keeps up to 300 s of
// unused capacity; one second is the harder case). Each answer takes `latency`.
struct Minute {
  double admitted_per_s = 0;
  double throttled_share = 0;
  std::vector<double> per_client_per_s;
};

Minute simulate(int clients, int in_flight, double capacity, Clock::duration latency) {
  struct Event {
    Clock::time_point at;
    int client;
    bool is_send;  // else: the answer arrives
    bool ok;
    AdaptiveRateLimiter::Reservation turn;
    bool operator>(const Event& other) const { return at > other.at; }
  };
  std::vector<std::unique_ptr<AdaptiveRateLimiter>> limiters;
  for (int i = 0; i < clients; ++i) limiters.push_back(std::make_unique<AdaptiveRateLimiter>());
  std::priority_queue<Event, std::vector<Event>, std::greater<>> events;
  const auto start = Clock::time_point{} + 1h;
  const auto end = start + 60s;
  // As ServiceRuntime does: take a turn, wait it out, take another if void.
  const auto schedule_send = [&](int client, Clock::time_point now) {
    const auto turn = limiters[client]->reserve(now);
    events.push({now + turn.wait, client, true, false, turn});
  };
  for (int c = 0; c < clients; ++c) {
    for (int i = 0; i < in_flight; ++i) schedule_send(c, start + c * 1ms);
  }
  double tokens = capacity;
  auto last_fill = start;
  std::size_t ok = 0;
  std::size_t throttled = 0;
  std::vector<std::size_t> per_client(clients, 0);
  while (!events.empty()) {
    const Event event = events.top();
    events.pop();
    if (event.at >= end) break;
    if (event.is_send) {
      if (!limiters[event.client]->holds(event.turn)) {
        schedule_send(event.client, event.at);
        continue;
      }
      tokens =
          std::min(capacity,
                   tokens + std::chrono::duration<double>(event.at - last_fill).count() * capacity);
      last_fill = event.at;
      const bool admitted = tokens >= 1;
      if (admitted) tokens -= 1;
      events.push({event.at + latency, event.client, false, admitted, event.turn});
    } else {
      limiters[event.client]->on_response(event.at, !event.ok, event.turn.generation);
      if (event.ok) {
        ++ok;
        ++per_client[event.client];
      } else {
        ++throttled;
      }
      schedule_send(event.client, event.at);
    }
  }
  Minute minute;
  minute.admitted_per_s = static_cast<double>(ok) / 60;
  minute.throttled_share = static_cast<double>(throttled) / static_cast<double>(ok + throttled);
  for (const auto n : per_client) minute.per_client_per_s.push_back(static_cast<double>(n) / 60);
  return minute;
}

TEST(AdaptiveRateLimiter, OneClientUsesMostOfACapacityWithFewThrottles) {
  // 40 requests/s: 2,000 WCU in BatchWriteItem requests of 25 items of 2 WCU.
  for (const auto latency : {1ms, 10ms}) {
    const Minute minute = simulate(1, 16, 40, latency);
    EXPECT_GE(minute.admitted_per_s, 0.85 * 40) << "latency " << latency.count() << " ms";
    EXPECT_LE(minute.throttled_share, 0.05) << "latency " << latency.count() << " ms";
  }
}

TEST(AdaptiveRateLimiter, ClientsSharingACapacityConvergeInsteadOfStorming) {
  // Without the limiter nearly every request of a closed loop this size is
  // throttled (the capacity is 40 a second, the clients send thousands); with
  // it each client's probing beyond its share costs some (about 12 % here).
  const Minute minute = simulate(8, 16, 40, 5ms);
  EXPECT_GE(minute.admitted_per_s, 0.85 * 40);
  EXPECT_LE(minute.throttled_share, 0.15);
  // Each gets a share: none is starved by the others.
  for (const double rate : minute.per_client_per_s) EXPECT_GE(rate, 40.0 / 8 / 4);
}

}  // namespace
}  // namespace salesflow::aws
