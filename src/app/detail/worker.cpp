#include "app/detail/worker.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <charconv>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <thread>

#include "app/metrics.hpp"
#include "base/fatal.hpp"

namespace salesflow::app {
namespace {

using Clock = std::chrono::steady_clock;

struct MessageWork {
  aws::SqsMessage message;
  std::size_t remaining = 0;
  bool settled = true;
  int retry_after_s = 0;  // when not settled: when to see the message again
};

struct ObjectTask {
  std::shared_ptr<MessageWork> message;
  pipeline::ObjectEvent event;
};

// A long poll that a stop does not have to wait out: the caller gets nothing
// when `stop` rises first. Messages that abandoned poll still brings are not
// touched: they reappear when their visibility timeout ends (nothing is lost;
// the callback holds only the exchange, so it is safe whenever it runs).
std::optional<aws::Result<std::vector<aws::SqsMessage>>> receive_interruptibly(
    aws::SqsClient& sqs, const std::string& queue_url, const aws::ReceiveOptions& options,
    const std::atomic<bool>& stop) {
  struct Exchange {
    std::mutex mutex;
    std::condition_variable arrived;
    std::optional<aws::Result<std::vector<aws::SqsMessage>>> result;
  };
  auto exchange = std::make_shared<Exchange>();
  sqs.receive_async(queue_url, options,
                    [exchange](aws::Result<std::vector<aws::SqsMessage>> result) {
                      {
                        const std::scoped_lock lock(exchange->mutex);
                        exchange->result = std::move(result);
                      }
                      exchange->arrived.notify_all();
                    });
  std::unique_lock lock(exchange->mutex);
  while (!exchange->arrived.wait_for(lock, std::chrono::milliseconds(100),
                                     [&] { return exchange->result.has_value(); })) {
    if (stop.load()) {
      return std::nullopt;
    }
  }
  return std::move(exchange->result);
}

}  // namespace

struct Worker::State {
  State(AwsClients& aws_clients, const Settings& worker_settings, core::Rules worker_rules,
        pipeline::Observer& worker_observer)
      : aws(aws_clients),
        settings(worker_settings),
        rules(std::move(worker_rules)),
        observer(worker_observer) {}

  AwsClients& aws;
  Settings settings;
  core::Rules rules;
  pipeline::Observer& observer;
  std::string queue_url;
  std::unique_ptr<pipeline::JobEnvironment> jobs;  // made by run()

  std::mutex mutex;
  std::condition_variable changed;
  std::deque<ObjectTask> tasks;
  std::map<MessageWork*, std::shared_ptr<MessageWork>> active;  // messages in work
  struct Lease {
    pipeline::ObjectVersion version;
    std::shared_ptr<std::atomic<bool>> lost;  // raised by the heartbeat; stops the object's writes
  };
  std::map<std::string, Lease> leases;  // objects in work, by ledger id
  int busy = 0;
  bool closing = false;
  std::atomic<bool> interrupt{false};
  WorkerSummary summary;

  void note(pipeline::Severity severity, const std::string& text) const {
    observer.note(severity, text);
  }

  // Deletes a settled message, or hands an unsettled one back to the queue.
  void finish_message(const std::shared_ptr<MessageWork>& work) {
    if (work->settled) {
      auto deleted = aws.sqs().delete_batch(queue_url, {work->message.receipt_handle});
      if (!deleted || !deleted->ok()) {
        note(pipeline::Severity::warn,
             fmt::format("deleting notification {} failed ({}); it will come back and be "
                         "recognised as done",
                         work->message.message_id,
                         deleted ? deleted->failed.front().message : deleted.error().to_string()));
      }
      return;
    }
    auto changed_visibility = aws.sqs().change_visibility(
        queue_url, aws::VisibilityChange{work->message.receipt_handle, work->retry_after_s});
    if (!changed_visibility) {
      note(pipeline::Severity::warn,
           fmt::format("releasing notification {} failed: {}", work->message.message_id,
                       changed_visibility.error().to_string()));
    }
  }

  void object_finished(const std::shared_ptr<MessageWork>& work,
                       const pipeline::JobResult& result) {
    bool last = false;
    {
      const std::scoped_lock lock(mutex);
      ++summary.objects;
      if (result.outcome == pipeline::JobOutcome::completed) {
        ++summary.completed;
      }
      if (!pipeline::settles_notification(result.outcome)) {
        ++summary.failed;
        work->settled = false;
        int retry_after = 0;
        if (result.outcome == pipeline::JobOutcome::failed) {
          // Back off with the receive count, within the visibility timeout's order.
          retry_after = std::min(settings.visibility_timeout_s,
                                 5 * std::max(1, work->message.receive_count()));
        } else if (result.outcome == pipeline::JobOutcome::held) {
          retry_after = std::min(settings.lease_s, settings.visibility_timeout_s);
        }
        work->retry_after_s = std::max(work->retry_after_s, retry_after);
      }
      last = --work->remaining == 0;
      if (last) {
        active.erase(work.get());
      }
    }
    if (last) {
      finish_message(work);
    }
    changed.notify_all();
  }

  void object_loop() {
    core::RecordValidator validator(jobs->rules());
    for (;;) {
      ObjectTask task;
      {
        std::unique_lock lock(mutex);
        changed.wait(lock, [this] { return closing || !tasks.empty(); });
        if (tasks.empty()) {
          return;
        }
        task = std::move(tasks.front());
        tasks.pop_front();
        ++busy;
        observer.objects_in_flight(busy);
      }
      const pipeline::ObjectVersion version{task.event.bucket, task.event.key, task.event.etag,
                                            task.event.version_id};
      const auto lease_lost = std::make_shared<std::atomic<bool>>(false);
      // The heartbeat renews the lease once it is ours, under the version
      // claimed (a notification without an eTag gets its eTag from S3 first).
      std::string lease_id;
      const pipeline::ClaimedFn claimed = [&](const pipeline::ObjectVersion& claimed_version) {
        const std::scoped_lock lock(mutex);
        lease_id = claimed_version.ledger_id();
        leases.emplace(lease_id, Lease{claimed_version, lease_lost});
      };
      const pipeline::JobResult result = pipeline::run_object_job(
          *jobs, validator, version, task.event.size, &interrupt, lease_lost.get(), claimed);
      {
        const std::scoped_lock lock(mutex);
        if (!lease_id.empty()) {
          leases.erase(lease_id);
        }
        --busy;
        observer.objects_in_flight(busy);
      }
      object_finished(task.message, result);
    }
  }

  // Keeps messages invisible and leases alive while their objects are in work.
  void heartbeat_loop() {
    const auto period = std::chrono::seconds(
        std::max(1, std::min(settings.visibility_timeout_s, settings.lease_s) / 3));
    std::unique_lock lock(mutex);
    for (;;) {
      if (changed.wait_for(lock, period,
                           [this] { return closing && busy == 0 && active.empty(); })) {
        return;
      }
      std::vector<aws::VisibilityChange> extensions;
      for (const auto& [raw, work] : active) {
        extensions.push_back(
            aws::VisibilityChange{work->message.receipt_handle, settings.visibility_timeout_s});
      }
      std::vector<Lease> objects;
      for (const auto& [id, lease] : leases) {
        objects.push_back(lease);
      }
      lock.unlock();
      for (std::size_t at = 0; at < extensions.size(); at += aws::SqsClient::kMaxBatchEntries) {
        const auto end = std::min(extensions.size(), at + aws::SqsClient::kMaxBatchEntries);
        auto extended = aws.sqs().change_visibility_batch(
            queue_url,
            std::vector<aws::VisibilityChange>(extensions.begin() + static_cast<long>(at),
                                               extensions.begin() + static_cast<long>(end)));
        if (!extended || !extended->ok()) {
          note(pipeline::Severity::warn,
               "extending the visibility of notifications in work failed: " +
                   (extended ? extended->failed.front().message : extended.error().to_string()));
        }
      }
      for (const auto& lease : objects) {
        auto renewed = jobs->ledger().renew(lease.version);
        if (!renewed) {
          // Not lost yet: the next renewal or checkpoint tries again within the lease.
          note(pipeline::Severity::warn, "renewing the lease of " + lease.version.ledger_id() +
                                             " failed: " + renewed.error().to_string() +
                                             "; the next heartbeat tries again");
        } else if (*renewed == pipeline::LeaseState::lost) {
          note(pipeline::Severity::warn,
               "the lease of " + lease.version.ledger_id() +
                   " was taken over by another worker: stopping its writes");
          lease.lost->store(true);
        }
      }
      lock.lock();
    }
  }

  // Takes a received message apart into object tasks, or settles it at once.
  void dispatch(aws::SqsMessage message) {
    auto parsed = pipeline::parse_notification(message.body);
    observer.notification_received(pipeline::kind_of(parsed));
    if (!parsed) {
      note(pipeline::Severity::error,
           fmt::format("notification {} (receive {}) is not an S3 event: {}; it stays in "
                       "the queue and moves to the poison queue after {} receives",
                       message.message_id, message.receive_count(), parsed.error(),
                       settings.max_receive_count));
      return;
    }
    for (const auto& ignored : parsed->ignored) {
      note(pipeline::Severity::info, "ignoring " + ignored);
    }
    auto work = std::make_shared<MessageWork>();
    work->message = std::move(message);
    if (parsed->test_event || parsed->objects.empty()) {
      if (parsed->test_event) {
        note(pipeline::Severity::info, "deleting s3:TestEvent " + work->message.message_id);
      }
      finish_message(work);
      return;
    }
    const std::scoped_lock lock(mutex);
    work->remaining = parsed->objects.size();
    active.emplace(work.get(), work);
    for (auto& event : parsed->objects) {
      tasks.push_back(ObjectTask{work, std::move(event)});
    }
    ++summary.messages;
    changed.notify_all();
  }
};

Worker::Worker(AwsClients& aws, const Settings& settings, core::Rules rules,
               pipeline::Observer& observer)
    : state_(std::make_unique<State>(aws, settings, std::move(rules), observer)) {}

Worker::~Worker() = default;

tl::expected<WorkerSummary, std::string> Worker::run(const std::atomic<bool>& stop) {
  State& s = *state_;
  auto queue = s.aws.queue_url(s.settings.resources.notification_queue);
  if (!queue) {
    return tl::make_unexpected(queue.error());
  }
  s.queue_url = *queue;
  auto jobs = make_job_environment(s.aws, s.settings, s.rules, &s.observer);
  if (!jobs) {
    return tl::make_unexpected(jobs.error());
  }
  s.jobs = std::move(*jobs);

  std::vector<std::thread> threads;
  threads.reserve(static_cast<std::size_t>(s.settings.objects_in_flight));
  for (int i = 0; i < s.settings.objects_in_flight; ++i) {
    threads.emplace_back(
        [&s] { base::run_or_die("worker object thread", [&s] { s.object_loop(); }); });
  }
  std::thread heartbeat(
      [&s] { base::run_or_die("worker heartbeat thread", [&s] { s.heartbeat_loop(); }); });

  auto last_activity = Clock::now();
  const bool idle_exit = s.settings.exit_when_idle_s >= 0;
  const auto idle_limit = std::chrono::duration<double>(std::max(0.0, s.settings.exit_when_idle_s));
  while (!stop.load()) {
    int free_slots = 0;
    {
      std::unique_lock lock(s.mutex);
      // Backpressure: take no more notifications than there are free object
      // slots. A message received but not started is invisible to every other
      // worker on the queue: taking ten while one object is in work would
      // hold nine files back from idle workers until this one gets to them.
      free_slots = s.settings.objects_in_flight - s.busy - static_cast<int>(s.tasks.size());
      // Idle is counted from the last moment there was work, not from the
      // last receive: while every slot is busy no receive happens, and
      // notifications may be waiting in the queue when the objects finish.
      if (!s.active.empty()) {
        last_activity = Clock::now();
      }
      if (free_slots <= 0) {
        s.changed.wait_for(lock, std::chrono::milliseconds(200));
        continue;
      }
      if (idle_exit && s.active.empty() && Clock::now() - last_activity >= idle_limit) {
        break;
      }
    }
    aws::ReceiveOptions receive;
    receive.max_messages = std::clamp(free_slots, 1, 10);
    receive.visibility_timeout = s.settings.visibility_timeout_s;
    receive.wait_seconds = 20;
    if (idle_exit) {
      receive.wait_seconds =
          std::clamp(static_cast<int>(std::ceil(s.settings.exit_when_idle_s)), 1, 20);
    }
    auto pending = receive_interruptibly(s.aws.sqs(), s.queue_url, receive, stop);
    if (!pending) {
      break;  // stopped during the long poll; whatever it brings is handed back
    }
    auto& received = *pending;
    if (!received) {
      s.note(pipeline::Severity::warn,
             "receiving notifications failed: " + received.error().to_string());
      std::unique_lock lock(s.mutex);
      s.changed.wait_for(lock, std::chrono::seconds(1));
      continue;
    }
    if (received->empty()) {
      continue;
    }
    last_activity = Clock::now();
    double oldest = 0.0;
    for (auto& message : *received) {
      if (const auto sent = message.attributes.find("SentTimestamp");
          sent != message.attributes.end()) {
        oldest = std::max(
            oldest,
            message_age_seconds(sent->second, std::chrono::system_clock::now()).value_or(0.0));
      }
      if (stop.load()) {
        // Arrived after the stop: hand it straight back.
        auto work = std::make_shared<MessageWork>();
        work->message = std::move(message);
        work->settled = false;
        s.finish_message(work);
        continue;
      }
      s.dispatch(std::move(message));
    }
    s.observer.queue_lag(oldest);
    std::scoped_lock lock(s.mutex);
    last_activity = Clock::now();
  }

  // Shutdown: objects not started go back to the queue at once; running ones
  // get half the grace period to finish, then are interrupted.
  std::vector<ObjectTask> unstarted;
  {
    const std::scoped_lock lock(s.mutex);
    unstarted.assign(std::make_move_iterator(s.tasks.begin()),
                     std::make_move_iterator(s.tasks.end()));
    s.tasks.clear();
    s.closing = true;
  }
  s.changed.notify_all();
  for (auto& task : unstarted) {
    pipeline::JobResult skipped;
    skipped.outcome = pipeline::JobOutcome::interrupted;
    s.object_finished(task.message, skipped);
  }
  if (stop.load()) {
    const auto grace = std::chrono::seconds(s.settings.grace_period_s);
    std::unique_lock lock(s.mutex);
    if (!s.changed.wait_for(lock, grace / 2, [&s] { return s.busy == 0; })) {
      s.note(pipeline::Severity::info, "interrupting objects in work at half the grace period");
      s.interrupt.store(true);
    }
  }
  for (auto& thread : threads) {
    thread.join();
  }
  s.changed.notify_all();
  heartbeat.join();
  const std::scoped_lock lock(s.mutex);
  return s.summary;
}

}  // namespace salesflow::app
