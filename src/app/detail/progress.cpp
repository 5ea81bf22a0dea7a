#include "app/detail/progress.hpp"

#include <fmt/core.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>

namespace salesflow::app {

Progress::Progress(std::string label, std::uint64_t total_bytes, bool enabled)
    : label_(std::move(label)),
      total_(total_bytes),
      enabled_(enabled && ::isatty(STDERR_FILENO) == 1),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {}

Progress::~Progress() {
  done();
}

void Progress::restart(std::string label, std::uint64_t total_bytes) {
  label_ = std::move(label);
  total_ = total_bytes;
  start_ = std::chrono::steady_clock::now();
  last_draw_ = start_;
}

void Progress::update(std::uint64_t bytes, std::uint64_t records) {
  if (!enabled_) {
    return;
  }
  const auto now = std::chrono::steady_clock::now();
  if (now - last_draw_ < std::chrono::milliseconds(100)) {
    return;
  }
  last_draw_ = now;
  draw(bytes, records);
}

void Progress::draw(std::uint64_t bytes, std::uint64_t records) {
  const double seconds = std::max(
      1e-3, std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count());
  const double fraction =
      total_ == 0 ? 1.0 : std::min(1.0, static_cast<double>(bytes) / static_cast<double>(total_));
  constexpr int kWidth = 30;
  const int filled = static_cast<int>(fraction * kWidth);
  const double rate = static_cast<double>(bytes) / seconds;
  const double eta = rate > 0 && total_ > bytes ? static_cast<double>(total_ - bytes) / rate : 0.0;
  fmt::print(stderr, "\r{} [{:=<{}}{:<{}}] {:5.1f}% {:.1f} MB {:.0f} rec/s ETA {:.0f}s   ", label_,
             "", filled, "", kWidth - filled, fraction * 100.0, static_cast<double>(bytes) / 1e6,
             static_cast<double>(records) / seconds, eta);
  std::fflush(stderr);
  drawn_ = true;
}

void Progress::done() {
  if (drawn_) {
    fmt::print(stderr, "\r\033[K");
    std::fflush(stderr);
    drawn_ = false;
  }
  enabled_ = false;
}

void ObjectProgress::chunk_read(const pipeline::ObjectVersion& /*object*/, std::uint64_t raw_bytes,
                                std::uint64_t records) {
  const std::uint64_t bytes = bytes_ += raw_bytes;
  const std::uint64_t read = records_ += records;
  const std::unique_lock lock(mutex_, std::try_to_lock);
  if (lock.owns_lock()) {
    bar_.update(bytes, read);
  }
}

void ObjectProgress::begin(std::string label, std::uint64_t total_bytes) {
  const std::scoped_lock lock(mutex_);
  bar_.restart(std::move(label), total_bytes);
}

void ObjectProgress::done() {
  const std::scoped_lock lock(mutex_);
  bar_.done();
}

}  // namespace salesflow::app
