#pragma once
// A one-line progress bar on stderr (bytes, records/s, ETA), drawn only when
// enabled and stderr is a terminal, at most ten times a second.

#include <chrono>
#include <cstdint>
#include <string>

namespace salesflow::app {

class Progress {
 public:
  Progress(std::string label, std::uint64_t total_bytes, bool enabled);
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  void update(std::uint64_t bytes, std::uint64_t records);
  void done();

 private:
  void draw(std::uint64_t bytes, std::uint64_t records);

  std::string label_;
  std::uint64_t total_;
  bool enabled_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_;
};

}  // namespace salesflow::app
