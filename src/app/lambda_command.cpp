// `salesflow lambda`: the pipeline as an AWS Lambda custom runtime
// (provided.al2023). Set up once at init (settings, rules, AWS clients, the
// ledger), then per invocation: parse the event, run its objects through the
// same jobs as the worker, and answer. docs/lambda.md explains the design.
//
// The deadline: at `deadline_margin_s` before it, the objects in work are
// interrupted (in-flight writes drained, the checkpoint saved, the lease
// released). A message whose objects made progress is continued: the same
// notification is sent again to its queue and the original reported done, so
// a file that needs more invocations than the queue's maxReceiveCount still
// completes. A message that could not be continued, or made no progress, is
// listed in batchItemFailures and made visible again at once. No AWS call runs
// past the deadline (InvocationCutoff), so a stalled dependency cannot keep
// the stop from answering in time.

#include <fmt/core.h>

#include <algorithm>
#include <condition_variable>
#include <cstdlib>
#include <map>
#include <mutex>
#include <thread>

#include "app/detail/aws_clients.hpp"
#include "app/detail/commands.hpp"
#include "app/observe.hpp"
#include "aws/lambda_runtime.hpp"
#include "base/fatal.hpp"
#include "base/json_string.hpp"
#include "pipeline/s3_event.hpp"

namespace salesflow::app {
namespace {

using Clock = std::chrono::system_clock;

// What is kept back from the deadline for answering the invocation once every
// AWS call has ended (the Runtime API has its own client, to loopback).
// Below the smallest --deadline-margin, so a stop always begins before it.
constexpr auto kAnswerReserve = std::chrono::milliseconds(250);

// For one invocation: no AWS call of the function runs past its deadline less
// kAnswerReserve. A stalled write cannot keep the stop's drain past the
// deadline (Lambda would kill the process, no answer given, and the message
// would wait out its visibility timeout and the lease); it fails instead,
// and what it carried is redone from the checkpoint.
class InvocationCutoff {
 public:
  InvocationCutoff(aws::HttpClient& http, Clock::time_point deadline) : http_(http) {
    const auto left = deadline - kAnswerReserve - Clock::now();
    http_.set_cutoff(std::chrono::steady_clock::now() +
                     std::chrono::duration_cast<std::chrono::steady_clock::duration>(left));
  }
  ~InvocationCutoff() { http_.set_cutoff(std::nullopt); }
  InvocationCutoff(const InvocationCutoff&) = delete;
  InvocationCutoff& operator=(const InvocationCutoff&) = delete;
  InvocationCutoff(InvocationCutoff&&) = delete;
  InvocationCutoff& operator=(InvocationCutoff&&) = delete;

 private:
  aws::HttpClient& http_;
};

// The metrics of each object line in CloudWatch Embedded Metric Format, so a
// function gets CloudWatch metrics from its log lines without an agent; and
// the request id of the invocation the object ran in.
class LambdaLines {
 public:
  explicit LambdaLines(std::string function_name) : function_name_(std::move(function_name)) {}

  void set_request_id(std::string id) {
    const std::scoped_lock lock(mutex_);
    request_id_ = std::move(id);
  }

  Fields object_extra(const pipeline::JobResult& result) const {
    Fields fields;
    {
      const std::scoped_lock lock(mutex_);
      fields.add("request_id", request_id_);
    }
    const auto& report = result.report;
    const auto now_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now().time_since_epoch())
            .count();
    fields
        .add("_aws", RawJson{fmt::format(
                         R"({{"Timestamp":{},"CloudWatchMetrics":[{{"Namespace":"salesflow",)"
                         R"("Dimensions":[["FunctionName"]],"Metrics":[)"
                         R"({{"Name":"RecordsWritten","Unit":"Count"}},)"
                         R"({{"Name":"RecordsRejected","Unit":"Count"}},)"
                         R"({{"Name":"RecordsDuplicate","Unit":"Count"}},)"
                         R"({{"Name":"Retries","Unit":"Count"}},)"
                         R"({{"Name":"ObjectDuration","Unit":"Milliseconds"}}]}}]}})",
                         now_ms)})
        .add("FunctionName", function_name_)
        .add("RecordsWritten", report.written)
        .add("RecordsRejected", report.rejected)
        .add("RecordsDuplicate", report.tally.duplicates)
        .add("Retries", report.retries)
        .add("ObjectDuration", result.elapsed.count() * 1000.0);
    return fields;
  }

 private:
  std::string function_name_;
  mutable std::mutex mutex_;
  std::string request_id_;
};

// What became of one message's objects in this invocation.
struct MessageFate {
  bool notification_ok = true;  // the body was a notification
  std::size_t objects = 0;
  std::size_t settled = 0;
  std::size_t failed = 0;       // failed, held, lease lost: retry after a back-off
  std::size_t interrupted = 0;  // stopped by the deadline (or never started)
  bool progressed = false;      // some object completed or moved its checkpoint on
  int lease_wait_s = 0;         // some object is leased elsewhere
};

struct ObjectTask {
  std::size_t message = 0;
  pipeline::ObjectEvent event;
};

class LambdaFunction {
  // An object in work, whose lease this invocation keeps alive.
  struct Lease {
    pipeline::ObjectVersion version;
    std::shared_ptr<std::atomic<bool>> lost;  // raised when the ledger says it was taken over
  };

 public:
  LambdaFunction(const Settings& settings, AwsClients& aws, pipeline::JobEnvironment& jobs,
                 Observers& observers)
      : settings_(settings), aws_(aws), jobs_(jobs), observers_(observers) {
    // One validator per object thread, made once and reused by every warm invocation.
    for (int i = 0; i < settings_.objects_in_flight; ++i) {
      validators_.push_back(std::make_unique<core::RecordValidator>(jobs_.rules()));
    }
  }

  // The answer to one invocation: the response body, or the error to report.
  tl::expected<std::string, aws::FunctionError> invoke(const aws::Invocation& invocation) {
    const InvocationCutoff cutoff(aws_.http(), invocation.deadline);
    auto event = pipeline::parse_lambda_event(invocation.payload);
    if (!event) {
      note(pipeline::Severity::error, "the invocation's event is not usable: " + event.error());
      return tl::make_unexpected(aws::FunctionError{"Salesflow.InvalidEvent", event.error()});
    }
    std::vector<MessageFate> fates;
    std::vector<ObjectTask> tasks;
    if (event->direct) {
      fates.resize(1);
      observers_.observer().notification_received(pipeline::kind_of(*event->direct));
      add_tasks(*event->direct, 0, fates, tasks);
    } else {
      fates.resize(event->messages.size());
      for (std::size_t i = 0; i < event->messages.size(); ++i) {
        const auto& message = event->messages[i];
        auto notification = pipeline::parse_notification(message.body);
        if (!notification) {
          observers_.observer().notification_received(pipeline::kind_of(notification));
          note(pipeline::Severity::error,
               fmt::format("message {} (receive {}) is not an S3 event: {}; it stays in the "
                           "queue and moves to its redrive target after maxReceiveCount receives",
                           message.message_id, message.receive_count, notification.error()));
          fates[i].notification_ok = false;
          continue;
        }
        observers_.observer().notification_received(pipeline::kind_of(notification));
        add_tasks(*notification, i, fates, tasks);
      }
    }
    run(tasks, fates, invocation.deadline);
    if (event->direct) {
      const MessageFate& fate = fates.front();
      if (fate.settled == fate.objects) {
        return fmt::format(R"({{"objects":{},"settled":{}}})", fate.objects, fate.settled);
      }
      // Lambda retries a failed asynchronous invocation; the retry resumes
      // each object from its checkpoint.
      return tl::make_unexpected(aws::FunctionError{
          "Salesflow.ObjectsNotSettled",
          fmt::format("{} of {} objects not settled ({} failed, {} stopped by the deadline)",
                      fate.objects - fate.settled, fate.objects, fate.failed, fate.interrupted)});
    }
    return batch_response(event->messages, fates);
  }

 private:
  void note(pipeline::Severity severity, const std::string& text) {
    observers_.note(severity, text);
  }

  void add_tasks(const pipeline::Notification& notification, std::size_t message,
                 std::vector<MessageFate>& fates, std::vector<ObjectTask>& tasks) {
    for (const auto& ignored : notification.ignored) {
      note(pipeline::Severity::info, "ignoring " + ignored);
    }
    fates[message].objects = notification.objects.size();
    for (const auto& object : notification.objects) {
      tasks.push_back(ObjectTask{message, object});
    }
  }

  // Runs every task on up to settings.objects_in_flight threads until done or
  // the deadline's margin; keeps the leases of objects in work alive.
  void run(const std::vector<ObjectTask>& tasks, std::vector<MessageFate>& fates,
           Clock::time_point deadline) {
    if (tasks.empty()) {
      return;
    }
    const auto stop_at =
        deadline - std::chrono::milliseconds(static_cast<long>(settings_.deadline_margin_s * 1000));
    std::atomic<bool> stop{false};
    std::mutex mutex;
    std::condition_variable changed;
    std::size_t next = 0;
    std::size_t running = 0;
    std::map<std::string, Lease> leases;

    const auto work = [&](core::RecordValidator& validator) {
      for (;;) {
        ObjectTask task;
        {
          const std::scoped_lock lock(mutex);
          if (next == tasks.size() || stop.load()) {
            return;
          }
          task = tasks[next++];
          ++running;
        }
        const pipeline::ObjectVersion version{task.event.bucket, task.event.key, task.event.etag,
                                              task.event.version_id};
        const auto lost = std::make_shared<std::atomic<bool>>(false);
        // Renewed once it is ours, under the version claimed.
        std::string lease_id;
        const pipeline::ClaimedFn claimed = [&](const pipeline::ObjectVersion& claimed_version) {
          const std::scoped_lock lock(mutex);
          lease_id = claimed_version.ledger_id();
          leases.emplace(lease_id, Lease{claimed_version, lost});
        };
        const auto result = pipeline::run_object_job(jobs_, validator, version, task.event.size,
                                                     &stop, lost.get(), claimed);
        const std::scoped_lock lock(mutex);
        if (!lease_id.empty()) {
          leases.erase(lease_id);
        }
        --running;
        record(fates[task.message], result);
        changed.notify_all();
      }
    };

    const std::size_t count = std::min<std::size_t>(
        {static_cast<std::size_t>(settings_.objects_in_flight), tasks.size(), validators_.size()});
    std::vector<std::thread> threads;
    for (std::size_t i = 0; i < count; ++i) {
      threads.emplace_back([&work, &validator = *validators_[i]] {
        base::run_or_die("lambda object thread", [&] { work(validator); });
      });
    }
    // The deadline and the leases, on this thread.
    const auto renew_every = std::chrono::seconds(std::max(1, settings_.lease_s / 3));
    auto next_renewal = Clock::now() + renew_every;
    {
      std::unique_lock lock(mutex);
      while (!(running == 0 && (next == tasks.size() || stop.load()))) {
        const auto wake = std::min(stop.load() ? Clock::time_point::max() : stop_at, next_renewal);
        changed.wait_until(lock, wake);
        const auto now = Clock::now();
        if (!stop.load() && now >= stop_at) {
          stop.store(true);
          lock.unlock();
          note(pipeline::Severity::info,
               fmt::format("{:.1f} s before the deadline: stopping, checkpointing the objects "
                           "in work",
                           settings_.deadline_margin_s));
          lock.lock();
        }
        if (now >= next_renewal) {
          std::vector<Lease> held;
          for (const auto& [id, lease] : leases) {
            held.push_back(lease);
          }
          lock.unlock();
          renew(held);
          lock.lock();
          next_renewal = Clock::now() + renew_every;
        }
      }
    }
    for (auto& thread : threads) {
      thread.join();
    }
    // Objects never started because the deadline came first.
    for (std::size_t i = next; i < tasks.size(); ++i) {
      ++fates[tasks[i].message].interrupted;
    }
  }

  void renew(const std::vector<Lease>& held) {
    for (const auto& lease : held) {
      auto renewed = jobs_.ledger().renew(lease.version);
      if (!renewed) {
        note(pipeline::Severity::warn, "renewing the lease of " + lease.version.ledger_id() +
                                           " failed: " + renewed.error().to_string() +
                                           "; the next renewal tries again");
      } else if (*renewed == pipeline::LeaseState::lost) {
        note(pipeline::Severity::warn,
             "the lease of " + lease.version.ledger_id() + " was taken over: stopping its writes");
        lease.lost->store(true);
      }
    }
  }

  void record(MessageFate& fate, const pipeline::JobResult& result) const {
    using pipeline::JobOutcome;
    const auto& report = result.report;
    if (report.last_checkpoint.next_index > report.resumed_from) {
      fate.progressed = true;
    }
    if (pipeline::settles_notification(result.outcome)) {
      ++fate.settled;
      fate.progressed = true;
      return;
    }
    if (result.outcome == JobOutcome::interrupted) {
      ++fate.interrupted;
      return;
    }
    ++fate.failed;
    if (result.outcome == JobOutcome::held) {
      fate.lease_wait_s = settings_.lease_s;  // another invocation holds it: wait it out
    }
  }

  // {"batchItemFailures":[...]}: the messages not settled, after continuing
  // the ones the deadline stopped and making the others visible when due.
  std::string batch_response(const std::vector<pipeline::QueuedMessage>& messages,
                             const std::vector<MessageFate>& fates) {
    std::string body = R"({"batchItemFailures":[)";
    bool first = true;
    for (std::size_t i = 0; i < messages.size(); ++i) {
      const auto& message = messages[i];
      const MessageFate& fate = fates[i];
      if (fate.notification_ok && fate.settled == fate.objects) {
        continue;
      }
      if (fate.notification_ok && fate.failed == 0 && fate.progressed && continue_later(message)) {
        continue;  // the continuation carries it on; Lambda deletes the original
      }
      if (fate.notification_ok) {
        // As the worker does: a failure backs off with the receive count, a
        // lease held elsewhere is waited out; a deadline stop comes back at once.
        const int visible_in =
            fate.failed == 0 ? 0 : std::max(fate.lease_wait_s, 5 * message.receive_count);
        make_visible(message, std::min(visible_in, 43200));
      }
      if (!first) {
        body += ",";
      }
      first = false;
      body += R"({"itemIdentifier":)";
      base::append_json_string(body, message.message_id);
      body += "}";
    }
    body += "]}";
    return body;
  }

  tl::expected<std::string, std::string> queue_url(const std::string& arn) {
    if (const auto found = queue_urls_.find(arn); found != queue_urls_.end()) {
      return found->second;
    }
    auto name = pipeline::queue_name_from_arn(arn);
    if (!name) {
      return tl::make_unexpected(name.error());
    }
    auto url = aws_.queue_url(*name);
    if (!url) {
      return tl::make_unexpected(url.error());
    }
    queue_urls_.emplace(arn, *url);
    return *url;
  }

  // Sends the notification again (a receive count of zero), so the next
  // invocation resumes the objects from their checkpoints.
  bool continue_later(const pipeline::QueuedMessage& message) {
    auto url = queue_url(message.queue_arn);
    if (!url) {
      note(pipeline::Severity::warn,
           "continuing message " + message.message_id + ": its queue is unknown: " + url.error());
      return false;
    }
    aws::OutgoingMessage again;
    again.body = message.body;
    again.attributes["salesflow-continues"] = message.message_id;
    if (aws::is_fifo_queue(*url)) {
      again.group_id = message.message_id;
      again.deduplication_id = message.message_id + "-" + std::to_string(message.receive_count);
    }
    auto sent = aws_.sqs().send(*url, std::move(again));
    if (!sent) {
      note(pipeline::Severity::warn, "continuing message " + message.message_id +
                                         " failed: " + sent.error().to_string() +
                                         "; it is retried from the queue instead");
      return false;
    }
    note(pipeline::Severity::info,
         fmt::format("message {} continues as {}: the deadline stopped its objects after "
                     "progress, the next invocation resumes them",
                     message.message_id, *sent));
    return true;
  }

  void make_visible(const pipeline::QueuedMessage& message, int seconds) {
    auto url = queue_url(message.queue_arn);
    if (!url) {
      note(pipeline::Severity::warn,
           "message " + message.message_id +
               " comes back after the queue's visibility timeout: " + url.error());
      return;
    }
    auto changed =
        aws_.sqs().change_visibility(*url, aws::VisibilityChange{message.receipt_handle, seconds});
    if (!changed) {
      note(pipeline::Severity::warn,
           "message " + message.message_id +
               " comes back after the queue's visibility timeout: " + changed.error().to_string());
    }
  }

  const Settings& settings_;
  AwsClients& aws_;
  pipeline::JobEnvironment& jobs_;
  Observers& observers_;
  std::vector<std::unique_ptr<core::RecordValidator>> validators_;
  std::map<std::string, std::string> queue_urls_;  // by queue ARN
};

int run_lambda(const Settings& settings) {
  const char* api = std::getenv("AWS_LAMBDA_RUNTIME_API");
  if (api == nullptr || *api == '\0') {
    fmt::print(stderr,
               "salesflow lambda: AWS_LAMBDA_RUNTIME_API is not set: this command is the "
               "runtime of an AWS Lambda function (see docs/lambda.md)\n");
    return kExitUsage;
  }
  aws::LambdaRuntimeClient runtime_api(api);
  // On Lambda, stdout and stderr both reach CloudWatch Logs; stdout is where
  // EMF lines are expected.
  Observers observers(settings, Log::Stream::stdout_lines);
  const char* function = std::getenv("AWS_LAMBDA_FUNCTION_NAME");
  LambdaLines lines(function != nullptr ? function : "salesflow");
  observers.log_observer().extend_object_lines(
      [&lines](const pipeline::ObjectVersion&, const pipeline::JobResult& result) {
        return lines.object_extra(result);
      });

  const auto init_failed = [&](std::string type, std::string message) {
    observers.log().error("the function cannot start", Fields().add("error", message));
    if (auto reported = runtime_api.init_error(aws::FunctionError{std::move(type), message});
        !reported) {
      fmt::print(stderr, "salesflow lambda: reporting the init error failed: {}\n",
                 reported.error().to_string());
    }
    return kExitUsage;
  };
  if (!observers.ok()) {
    return init_failed("Salesflow.InvalidSettings", observers.error());
  }
  auto rules = load_rules(settings);
  if (!rules) {
    return init_failed("Salesflow.InvalidRules", rules.error());
  }
  auto aws = AwsClients::create(settings, observers.request_observer());
  if (!aws) {
    return init_failed("Salesflow.InvalidAwsConfiguration", aws.error());
  }
  auto jobs = make_job_environment(**aws, settings, std::move(*rules), &observers.observer());
  if (!jobs) {
    return init_failed("Salesflow.MissingResource", jobs.error());
  }
  LambdaFunction lambda(settings, **aws, **jobs, observers);
  observers.note(pipeline::Severity::info,
                 fmt::format("lambda runtime ready: table {}, DLQ {}", settings.resources.table,
                             settings.resources.dlq));

  for (;;) {
    auto invocation = runtime_api.next();
    if (!invocation) {
      // Lambda starts a new runtime when this one exits.
      observers.log().error("waiting for the next invocation failed",
                            Fields().add("error", invocation.error().to_string()));
      return kExitUsage;
    }
    lines.set_request_id(invocation->request_id);
    // The X-Ray trace of this invocation, where the AWS SDKs look for it.
    if (invocation->trace_id.empty()) {
      ::unsetenv("_X_AMZN_TRACE_ID");
    } else {
      ::setenv("_X_AMZN_TRACE_ID", invocation->trace_id.c_str(), 1);
    }
    auto answer = lambda.invoke(*invocation);
    auto reported = answer ? runtime_api.respond(invocation->request_id, std::move(*answer))
                           : runtime_api.fail(invocation->request_id, answer.error());
    if (!reported) {
      observers.log().error("answering the invocation failed",
                            Fields()
                                .add("request_id", invocation->request_id)
                                .add("error", reported.error().to_string()));
    }
  }
}

}  // namespace

void report_lambda_usage_error(const std::string& message) {
  const char* api = std::getenv("AWS_LAMBDA_RUNTIME_API");
  if (api == nullptr || *api == '\0') {
    return;
  }
  aws::LambdaRuntimeClient runtime_api(api);
  if (auto reported =
          runtime_api.init_error(aws::FunctionError{"Salesflow.InvalidSettings", message});
      !reported) {
    fmt::print(stderr, "salesflow lambda: reporting the init error failed: {}\n",
               reported.error().to_string());
  }
}

void add_lambda_command(CLI::App& root, Settings& settings, int& status) {
  auto* command = root.add_subcommand(
      "lambda",
      "Run as the custom runtime of an AWS Lambda function (the package's bootstrap runs it):\n"
      "SQS event source mapping batches answer with batchItemFailures, direct S3 and EventBridge\n"
      "invocations fail so Lambda retries them. Settings from SALESFLOW_* environment variables.");
  add_processing_options(*command, settings);
  command
      ->add_option("--deadline-margin", settings.deadline_margin_s,
                   "Seconds before the invocation's deadline to stop and checkpoint")
      ->check(CLI::Range(0.5, 600.0))
      ->capture_default_str();
  command->callback([&settings, &status] { status = run_lambda(settings); });
}

}  // namespace salesflow::app
