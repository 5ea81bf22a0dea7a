#pragma once
// SIGTERM and SIGINT as a stop flag. Construct before starting any thread:
// the signals are blocked in every thread and taken by one watcher thread
// with sigwait, so no code runs in a signal handler. After the first signal,
// a watchdog ends the process with status 0 once the grace period has passed
// (work that could not be checkpointed by then is redone from the last
// checkpoint by the next worker; nothing is lost). A second signal ends it at once.

#include <atomic>
#include <chrono>
#include <functional>
#include <thread>

namespace salesflow::app {

class StopSignals {
 public:
  // `on_forced_exit` runs just before the watchdog ends the process (flush logs there).
  StopSignals(std::chrono::seconds grace, std::function<void()> on_forced_exit);
  ~StopSignals();
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

  const std::atomic<bool>& stop() const { return stop_; }

 private:
  std::atomic<bool> stop_{false};
  std::atomic<bool> finished_{false};
  std::chrono::seconds grace_;
  std::function<void()> on_forced_exit_;
  std::thread watcher_;
};

}  // namespace salesflow::app
