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
#include <mutex>
#include <thread>

namespace salesflow::app {

class StopSignals {
 public:
  // The watchdog exits with `forced_exit_status`: 0 for the worker (its
  // unfinished work is the next worker's), non-zero for commands whose caller
  // must learn that objects were left unfinished (`process`).
  explicit StopSignals(std::chrono::seconds grace, int forced_exit_status = 0);
  ~StopSignals();
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

  const std::atomic<bool>& stop() const { return stop_; }

  // While the returned guard lives, `last_words` runs just before the
  // watchdog ends the process (flush the logs there). Destroy the guard before
  // whatever `last_words` uses: the watchdog takes the same lock to run them
  // and exit, so once the guard is gone they can no longer run (and a forced
  // exit under way finishes first).
  class LastWords {
   public:
    explicit LastWords(StopSignals& signals) : signals_(&signals) {}
    ~LastWords() { signals_->set_last_words({}); }
    LastWords(const LastWords&) = delete;
    LastWords& operator=(const LastWords&) = delete;

   private:
    StopSignals* signals_;
  };
  [[nodiscard]] LastWords on_forced_exit(std::function<void()> last_words);

 private:
  void set_last_words(std::function<void()> last_words);
  void watch();

  std::atomic<bool> stop_{false};
  std::atomic<bool> finished_{false};
  std::chrono::seconds grace_;
  int forced_exit_status_;
  std::mutex last_words_mutex_;  // held from running last_words_ to the exit
  std::function<void()> last_words_;
  std::thread watcher_;
};

}  // namespace salesflow::app
