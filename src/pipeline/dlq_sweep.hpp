#pragma once
// DlqSweep: one pass over every message of a queue, each received once.
//
// SQS has no lookup by content and no cursor: the only way to see every
// message is to receive them all. A sweep receives in batches of 10 with a
// long visibility timeout and *holds* what it received (the messages stay
// invisible to everyone, the sweep included) until the caller deletes them or
// the sweep hands them back (visibility 0) at its end, so a message is never
// received twice by the same sweep and a pass over n messages costs about n/10
// receives, whatever the caller looks for. The sweep ends after two empty long
// polls in a row (nothing visible is left), or when it holds `max_held`
// messages: SQS refuses receives beyond 120,000 messages in flight per
// standard queue (20,000 FIFO), so a larger queue needs another pass after
// this one hands its messages back.
//
// Held messages whose visibility timeout is half spent are extended again, so
// a slow caller does not see them reappear. If the process dies, they become
// visible on their own after `visibility`. Not thread-safe: one thread drives
// a sweep.

#include <chrono>
#include <cstddef>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "aws/sqs.hpp"

namespace salesflow::pipeline {

struct DlqSweepOptions {
  std::chrono::seconds visibility{300};  // how long a held message stays hidden
  std::size_t max_held = 100000;         // below SQS's in-flight limit
  int wait_seconds = 1;                  // long poll of each receive
};

// What handing messages back (or deleting them) could not do: those messages
// reappear when their visibility timeout ends (or were not deleted).
struct [[nodiscard]] SweepFailures {
  std::size_t failed = 0;
  std::string first_error;
  std::vector<std::string> failed_handles;  // receipt handles of the messages concerned
  [[nodiscard]] bool ok() const { return failed == 0; }
};

// Tells how far a sweep got: messages received so far.
using SweepProgress = std::function<void(std::size_t received)>;

class DlqSweep {
 public:
  DlqSweep(aws::SqsClient& sqs, std::string queue_url, DlqSweepOptions options = {});
  // Hands back whatever is still held; failures are not reported here (the
  // messages reappear after their visibility timeout): call hand_back() first
  // to know them.
  ~DlqSweep();
  DlqSweep(const DlqSweep&) = delete;
  DlqSweep& operator=(const DlqSweep&) = delete;

  // The next batch of messages, now held. Empty when the sweep is over: the
  // queue has nothing visible left, or `max_held` are held (held_limit_reached()).
  [[nodiscard]] aws::Result<std::vector<aws::SqsMessage>> next();

  // Calls `on_batch` with every batch next() receives until the sweep is over
  // or `on_batch` returns false; `progress` (may be empty) after each batch.
  // The receive error that ended the sweep early, if one did.
  using BatchHandler = std::function<bool(const std::vector<aws::SqsMessage>&)>;
  [[nodiscard]] std::optional<aws::AwsError> run(const BatchHandler& on_batch,
                                                 const SweepProgress& progress = {});

  // Deletes held messages for good, by receipt handle.
  [[nodiscard]] SweepFailures remove(const std::vector<std::string>& receipt_handles);
  // Makes held messages visible again at once.
  [[nodiscard]] SweepFailures release(const std::vector<std::string>& receipt_handles);
  // Makes every held message visible again.
  [[nodiscard]] SweepFailures hand_back();

  [[nodiscard]] bool held_limit_reached() const { return limit_reached_; }
  [[nodiscard]] std::size_t received() const { return received_; }
  [[nodiscard]] std::size_t held() const { return held_.size(); }
  [[nodiscard]] const std::string& queue_url() const { return url_; }

 private:
  // Extends the visibility of held messages received more than half a
  // visibility timeout ago.
  void keep_hidden();

  aws::SqsClient& sqs_;
  std::string url_;
  DlqSweepOptions options_;
  using Clock = std::chrono::steady_clock;
  // Starts (or extends) holding a message from `now`.
  void hold(const std::string& handle, Clock::time_point now);

  // receipt handle -> when its visibility timeout was last (re)started
  std::unordered_map<std::string, Clock::time_point> held_;
  // The same starts in time order, so keep_hidden() looks only at the oldest
  // (entries of messages no longer held, or held again since, are skipped).
  std::deque<std::pair<Clock::time_point, std::string>> by_start_;
  std::size_t received_ = 0;
  int empty_receives_ = 0;
  bool limit_reached_ = false;
  bool over_ = false;
};

}  // namespace salesflow::pipeline
