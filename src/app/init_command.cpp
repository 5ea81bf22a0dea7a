// `salesflow init`: creates, idempotently, everything the worker needs.

#include <fmt/core.h>

#include "app/detail/aws_clients.hpp"
#include "app/detail/commands.hpp"
#include "aws/service_json.hpp"
#include "core/envelope.hpp"
#include "pipeline/ledger.hpp"

namespace salesflow::app {
namespace {

using namespace std::chrono_literals;

struct InitOptions {
  int max_receive_count = 5;
  bool fifo_dlq = false;
  // Only the bucket's notification, merged into what the bucket has: for a
  // bucket and queue made elsewhere (a stack's ExistingBucketName).
  bool notification_only = false;
};

void report(std::string_view what, std::string_view name, aws::Creation creation) {
  fmt::print("{:<20} {:<8} {}\n", what, creation == aws::Creation::created ? "created" : "exists",
             name);
}

std::string queue_policy(const std::string& queue_arn, const std::string& bucket) {
  // Lets S3 (only for this bucket) deliver event notifications to the queue,
  // which AWS checks when the bucket's notification configuration is put.
  return fmt::format(
      R"({{"Version":"2012-10-17","Statement":[{{"Sid":"salesflow-s3-notifications",)"
      R"("Effect":"Allow","Principal":{{"Service":"s3.amazonaws.com"}},"Action":"sqs:SendMessage",)"
      R"("Resource":"{}","Condition":{{"ArnLike":{{"aws:SourceArn":"arn:aws:s3:::{}"}}}}}}]}})",
      queue_arn, bucket);
}

// Creates a queue, or finds it and brings its attributes up to date (SQS
// refuses CreateQueue for an existing queue with other attributes); returns
// its URL.
// `create_only` attributes are given at creation only (SQS refuses to change
// FifoQueue on an existing queue).
tl::expected<std::string, std::string> ensure_queue(
    AwsClients& aws, const std::string& name, std::map<std::string, std::string> attributes,
    std::string_view what, const std::map<std::string, std::string>& create_only = {}) {
  if (auto existing = aws.sqs().get_queue_url(name)) {
    if (auto updated = aws.sqs().set_queue_attributes(*existing, std::move(attributes)); !updated) {
      return tl::make_unexpected(fmt::format("{} {}: {}", what, name, updated.error().to_string()));
    }
    report(what, name, aws::Creation::already_existed);
    return *existing;
  }
  attributes.insert(create_only.begin(), create_only.end());
  auto url = aws.sqs().create_queue(name, std::move(attributes));
  if (!url) {
    return tl::make_unexpected(fmt::format("{} {}: {}", what, name, url.error().to_string()));
  }
  report(what, name, aws::Creation::created);
  return *url;
}

tl::expected<std::string, std::string> queue_arn(AwsClients& aws, const std::string& url) {
  auto attributes = aws.sqs().get_queue_attributes(url, {"QueueArn"});
  if (!attributes) {
    return tl::make_unexpected(attributes.error().to_string());
  }
  const auto found = attributes->find("QueueArn");
  if (found == attributes->end()) {
    return tl::make_unexpected("GetQueueAttributes returned no QueueArn for " + url);
  }
  return found->second;
}

tl::expected<void, std::string> ensure_table(AwsClients& aws, aws::CreateTableRequest request,
                                             std::string_view what) {
  const std::string name = request.table;
  auto created = aws.dynamodb().create_table(std::move(request));
  if (!created) {
    return tl::make_unexpected(fmt::format("{} {}: {}", what, name, created.error().to_string()));
  }
  auto active = aws.dynamodb().wait_until_active(name, 300s);
  if (!active) {
    return tl::make_unexpected(fmt::format("{} {}: {}", what, name, active.error().to_string()));
  }
  report(what, name, *created);
  return {};
}

// Whether a notification filtered by prefix and suffix announces `key`.
bool notification_covers(std::string_view prefix, std::string_view suffix, std::string_view key) {
  return key.starts_with(prefix) && key.ends_with(suffix);
}

// The notification must never announce salesflow's own offload objects
// (each would be read as a sales file, rejected, and offloaded again).
tl::expected<void, std::string> check_offload_not_notified(const ResourceNames& r) {
  const std::string offload_bucket = r.offload_bucket_name();
  if (offload_bucket == r.bucket &&
      notification_covers(r.key_prefix, r.key_suffix,
                          std::string(core::trim_slashes(r.offload_prefix)) + "/x.json")) {
    return tl::make_unexpected(fmt::format(
        "the notification of s3://{}/{}*{} would cover the DLQ offload location s3://{}/{}/; "
        "give --offload-bucket another bucket, or --prefix/--suffix that exclude it",
        r.bucket, r.key_prefix, r.key_suffix, offload_bucket,
        core::trim_slashes(r.offload_prefix)));
  }
  return {};
}

// Merges salesflow's queue configuration (Id "salesflow") into the bucket's
// notification configuration: the bucket's other notifications stay.
tl::expected<void, std::string> configure_notification(AwsClients& aws, const ResourceNames& r,
                                                       const std::string& queue_arn) {
  aws::QueueNotification notification;
  notification.id = "salesflow";
  notification.queue_arn = queue_arn;
  notification.events = {"s3:ObjectCreated:*"};
  notification.prefix = r.key_prefix;
  notification.suffix = r.key_suffix;
  auto configured = aws.s3().merge_bucket_notification(r.bucket, notification);
  if (!configured) {
    std::string hint;
    const auto& message = configured.error().message;
    if (message.find("Unable to validate") != std::string::npos) {
      hint = fmt::format(
          " (the queue's policy must let s3.amazonaws.com send messages from "
          "arn:aws:s3:::{}; salesflow.yaml's ExistingBucketName parameter grants it)",
          r.bucket);
    } else if (message.find("overlap") != std::string::npos) {
      hint =
          " (another configuration of the bucket already announces ObjectCreated events for "
          "these keys; give --prefix/--suffix that do not overlap it)";
    }
    return tl::make_unexpected("bucket notification: " + configured.error().to_string() + hint);
  }
  const char* state = "set";
  if (*configured == aws::NotificationChange::replaced) {
    state = "updated";
  } else if (*configured == aws::NotificationChange::unchanged) {
    state = "exists";
  }
  fmt::print("{:<20} {:<8} s3://{}/{}*{} -> {}\n", "notification", state, r.bucket, r.key_prefix,
             r.key_suffix, r.notification_queue);
  return {};
}

tl::expected<void, std::string> run_init(const Settings& settings, const InitOptions& options) {
  if (options.fifo_dlq && !aws::is_fifo_queue(settings.resources.dlq)) {
    return tl::make_unexpected(fmt::format(
        "--fifo-dlq: a FIFO queue's name ends in .fifo; give --dlq {}.fifo (to init and to "
        "every command)",
        settings.resources.dlq));
  }
  auto clients = AwsClients::create(settings);
  if (!clients) {
    return tl::make_unexpected(clients.error());
  }
  AwsClients& aws = **clients;
  const auto& r = settings.resources;

  if (auto safe = check_offload_not_notified(r); !safe) {
    return safe;
  }
  auto bucket = aws.s3().create_bucket(r.bucket);
  if (!bucket) {
    return tl::make_unexpected(fmt::format("bucket {}: {}", r.bucket, bucket.error().to_string()));
  }
  report("bucket", r.bucket, *bucket);
  if (const std::string offload_bucket = r.offload_bucket_name(); offload_bucket != r.bucket) {
    auto offload = aws.s3().create_bucket(offload_bucket);
    if (!offload) {
      return tl::make_unexpected(
          fmt::format("offload bucket {}: {}", offload_bucket, offload.error().to_string()));
    }
    report("offload bucket", offload_bucket, *offload);
  }

  auto rules = load_rules(settings);
  if (!rules) {
    return tl::make_unexpected(rules.error());
  }
  aws::CreateTableRequest table;
  table.table = r.table;
  table.partition_key =
      aws::KeyAttribute{rules->partition_key.attribute, std::string(1, rules->partition_key.type)};
  if (rules->sort_key) {
    table.sort_key =
        aws::KeyAttribute{rules->sort_key->attribute, std::string(1, rules->sort_key->type)};
  }
  if (auto made = ensure_table(aws, table, "table"); !made) {
    return made;
  }
  if (auto made = ensure_table(aws, pipeline::Ledger::table_schema(r.ledger_table), "ledger table");
      !made) {
    return made;
  }

  constexpr std::string_view kFourteenDays = "1209600";
  // A FIFO DLQ: SQS itself drops an envelope repeated within 5 minutes.
  const bool fifo = aws::is_fifo_queue(r.dlq);
  std::map<std::string, std::string> fifo_attributes;
  if (fifo) {
    fifo_attributes = {{"FifoQueue", "true"}, {"ContentBasedDeduplication", "false"}};
  }
  auto dlq = ensure_queue(aws, r.dlq, {{"MessageRetentionPeriod", std::string(kFourteenDays)}},
                          fifo ? "records DLQ (FIFO)" : "records DLQ", fifo_attributes);
  if (!dlq) {
    return tl::make_unexpected(dlq.error());
  }
  auto poison =
      ensure_queue(aws, r.poison_queue, {{"MessageRetentionPeriod", std::string(kFourteenDays)}},
                   "poison queue");
  if (!poison) {
    return tl::make_unexpected(poison.error());
  }
  auto poison_arn = queue_arn(aws, *poison);
  if (!poison_arn) {
    return tl::make_unexpected("poison queue: " + poison_arn.error());
  }
  const std::string redrive =
      fmt::format(R"({{"deadLetterTargetArn":"{}","maxReceiveCount":"{}"}})", *poison_arn,
                  options.max_receive_count);
  auto queue = ensure_queue(aws, r.notification_queue,
                            {{"RedrivePolicy", redrive},
                             {"VisibilityTimeout", std::to_string(settings.visibility_timeout_s)}},
                            "notification queue");
  if (!queue) {
    return tl::make_unexpected(queue.error());
  }
  auto arn = queue_arn(aws, *queue);
  if (!arn) {
    return tl::make_unexpected("notification queue: " + arn.error());
  }
  // Set on every run: an older policy may name another bucket.
  auto policy = aws.sqs().set_queue_attributes(*queue, {{"Policy", queue_policy(*arn, r.bucket)}});
  if (!policy) {
    return tl::make_unexpected("notification queue policy: " + policy.error().to_string());
  }

  return configure_notification(aws, r, *arn);
}

// Only the notification, for a bucket and a queue that exist already.
tl::expected<void, std::string> run_notification_only(const Settings& settings) {
  const auto& r = settings.resources;
  if (auto safe = check_offload_not_notified(r); !safe) {
    return safe;
  }
  auto clients = AwsClients::create(settings);
  if (!clients) {
    return tl::make_unexpected(clients.error());
  }
  AwsClients& aws = **clients;
  auto queue = aws.sqs().get_queue_url(r.notification_queue);
  if (!queue) {
    return tl::make_unexpected(
        fmt::format("notification queue {}: {}", r.notification_queue, queue.error().to_string()));
  }
  auto arn = queue_arn(aws, *queue);
  if (!arn) {
    return tl::make_unexpected("notification queue: " + arn.error());
  }
  return configure_notification(aws, r, *arn);
}

}  // namespace

void add_init_command(CLI::App& root, Settings& settings, int& status) {
  auto options = std::make_shared<InitOptions>();
  auto* command = root.add_subcommand(
      "init",
      "Create, idempotently, the bucket, the DLQ offload bucket, the table (key schema from the "
      "rules), the ledger table,\n"
      "the records DLQ, the notification queue with a redrive policy to a poison queue, and the\n"
      "bucket's event notification to the queue. Prints what it created or found.");
  command
      ->add_option("--max-receive-count", options->max_receive_count,
                   "Receives of a notification before it moves to the poison queue")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  command->add_flag("--fifo-dlq", options->fifo_dlq,
                    "Make the records DLQ a FIFO queue (its --dlq name must end in .fifo; a name "
                    "ending in .fifo is one anyway): SQS drops envelopes repeated within 5 "
                    "minutes, so a crash or lost lease leaves no repeats");
  command->add_option("--prefix", settings.resources.key_prefix,
                      "Only keys with this prefix notify");
  command->add_option("--suffix", settings.resources.key_suffix,
                      "Only keys with this suffix notify");
  command
      ->add_option("--visibility-timeout", settings.visibility_timeout_s,
                   "The notification queue's visibility timeout in seconds")
      ->check(CLI::Range(10, 43200))
      ->capture_default_str();
  command->add_flag(
      "--notification-only", options->notification_only,
      "Create nothing: merge the notification to the existing --notification-queue into the "
      "existing --bucket's notification configuration, keeping the bucket's other "
      "notifications (for a bucket that a stack does not own)");
  command->callback([&settings, &status, options] {
    auto done =
        options->notification_only ? run_notification_only(settings) : run_init(settings, *options);
    if (!done) {
      fmt::print(stderr, "salesflow init: {}\n", done.error());
      status = kExitFindings;
    }
  });
}

}  // namespace salesflow::app
