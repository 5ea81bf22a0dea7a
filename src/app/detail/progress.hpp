#pragma once
// A one-line progress bar on stderr (bytes, records/s, ETA), drawn only when
// enabled and stderr is a terminal, at most ten times a second.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>

#include "pipeline/observer.hpp"

namespace salesflow::app {

class Progress {
 public:
  Progress(std::string label, std::uint64_t total_bytes, bool enabled);
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  void update(std::uint64_t bytes, std::uint64_t records);
  void done();
  // A new label and total, the clock started again.
  void restart(std::string label, std::uint64_t total_bytes);

 private:
  void draw(std::uint64_t bytes, std::uint64_t records);

  std::string label_;
  std::uint64_t total_;
  bool enabled_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_;
};

// The bar for objects run through the pipeline: counts the chunks read by
// every object (from any thread) and draws at most ten times a second.
class ObjectProgress final : public pipeline::Observer {
 public:
  explicit ObjectProgress(bool enabled) : bar_({}, 0, enabled) {}

  // What the bar shows, once known: before the first chunk is read.
  void begin(std::string label, std::uint64_t total_bytes);

  void chunk_read(const pipeline::ObjectVersion& object, std::uint64_t raw_bytes,
                  std::uint64_t records) override;
  // Draws the last state and ends the line.
  void done();

 private:
  std::atomic<std::uint64_t> bytes_{0};
  std::atomic<std::uint64_t> records_{0};
  std::mutex mutex_;  // one thread draws; the others go on
  Progress bar_;
};

}  // namespace salesflow::app
