#include "app/signals.hpp"

#include <pthread.h>
#include <signal.h>

#include <cstdlib>

namespace salesflow::app {
namespace {

sigset_t stop_set() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  return set;
}

}  // namespace

StopSignals::StopSignals(std::chrono::seconds grace, std::function<void()> on_forced_exit)
    : grace_(grace), on_forced_exit_(std::move(on_forced_exit)) {
  const sigset_t set = stop_set();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  watcher_ = std::thread([this] {
    const sigset_t signals = stop_set();
    int received = 0;
    // SIGUSR1-free shutdown of the watcher: the destructor sends SIGTERM to
    // this thread after setting finished_.
    sigwait(&signals, &received);
    if (finished_.load()) {
      return;
    }
    stop_.store(true);
    const auto deadline = std::chrono::steady_clock::now() + grace_;
    timespec poll{0, 100'000'000};
    while (std::chrono::steady_clock::now() < deadline) {
      if (sigtimedwait(&signals, nullptr, &poll) > 0 || finished_.load()) {
        break;  // a second signal, or the work finished
      }
    }
    if (finished_.load()) {
      return;
    }
    if (on_forced_exit_) {
      on_forced_exit_();
    }
    std::_Exit(0);
  });
}

StopSignals::~StopSignals() {
  finished_.store(true);
  if (!stop_.load()) {
    pthread_kill(watcher_.native_handle(), SIGTERM);
  }
  watcher_.join();
  const sigset_t set = stop_set();
  pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
}

}  // namespace salesflow::app
