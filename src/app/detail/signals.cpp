#include "app/detail/signals.hpp"

#include <pthread.h>
#include <signal.h>

#include <cstdlib>

#include "base/fatal.hpp"

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

StopSignals::StopSignals(std::chrono::seconds grace, int forced_exit_status)
    : grace_(grace), forced_exit_status_(forced_exit_status) {
  const sigset_t set = stop_set();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  watcher_ =
      std::thread([this] { base::run_or_die("signal watcher thread", [this] { watch(); }); });
}

void StopSignals::watch() {
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
  const std::scoped_lock lock(last_words_mutex_);
  if (last_words_) {
    last_words_();
  }
  std::_Exit(forced_exit_status_);
}

StopSignals::LastWords StopSignals::on_forced_exit(std::function<void()> last_words) {
  set_last_words(std::move(last_words));
  return LastWords(*this);
}

void StopSignals::set_last_words(std::function<void()> last_words) {
  const std::scoped_lock lock(last_words_mutex_);
  last_words_ = std::move(last_words);
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
