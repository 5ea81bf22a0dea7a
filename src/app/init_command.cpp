// `salesflow init`: creates, idempotently, everything the worker needs.

#include <fmt/core.h>

#include "app/aws_context.hpp"
#include "app/commands.hpp"
#include "aws/service_json.hpp"
#include "pipeline/ledger.hpp"

namespace salesflow::app {
namespace {

using namespace std::chrono_literals;

struct InitOptions {
  int max_receive_count = 5;
};

void report(std::string_view what, std::string_view name, bool created) {
  fmt::print("{:<20} {:<8} {}\n", what, created ? "created" : "exists", name);
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
tl::expected<std::string, std::string> ensure_queue(AwsContext& aws, const std::string& name,
                                                    std::map<std::string, std::string> attributes,
                                                    std::string_view what) {
  if (auto existing = aws.sqs().get_queue_url(name)) {
    if (auto updated = aws.sqs().set_queue_attributes(*existing, std::move(attributes)); !updated) {
      return tl::make_unexpected(fmt::format("{} {}: {}", what, name, updated.error().to_string()));
    }
    report(what, name, false);
    return *existing;
  }
  auto url = aws.sqs().create_queue(name, std::move(attributes));
  if (!url) {
    return tl::make_unexpected(fmt::format("{} {}: {}", what, name, url.error().to_string()));
  }
  report(what, name, true);
  return *url;
}

tl::expected<std::string, std::string> queue_arn(AwsContext& aws, const std::string& url) {
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

tl::expected<void, std::string> ensure_table(AwsContext& aws, aws::CreateTableRequest request,
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

tl::expected<void, std::string> run_init(const Settings& settings, const InitOptions& options) {
  auto context = AwsContext::create(settings);
  if (!context) {
    return tl::make_unexpected(context.error());
  }
  AwsContext& aws = **context;
  const auto& r = settings.resources;

  auto bucket = aws.s3().create_bucket(r.bucket);
  if (!bucket) {
    return tl::make_unexpected(fmt::format("bucket {}: {}", r.bucket, bucket.error().to_string()));
  }
  report("bucket", r.bucket, *bucket);

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
  auto dlq = ensure_queue(aws, r.dlq, {{"MessageRetentionPeriod", std::string(kFourteenDays)}},
                          "records DLQ");
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

  aws::QueueNotification notification;
  notification.id = "salesflow";
  notification.queue_arn = *arn;
  notification.events = {"s3:ObjectCreated:*"};
  notification.prefix = r.key_prefix;
  notification.suffix = r.key_suffix;
  auto configured = aws.s3().put_bucket_notification(r.bucket, {notification});
  if (!configured) {
    return tl::make_unexpected("bucket notification: " + configured.error().to_string());
  }
  fmt::print("{:<20} {:<8} s3://{}/{}*{} -> {}\n", "notification", "set", r.bucket, r.key_prefix,
             r.key_suffix, r.notification_queue);
  return {};
}

}  // namespace

void add_init_command(CLI::App& root, Settings& settings, int& status) {
  auto options = std::make_shared<InitOptions>();
  auto* command = root.add_subcommand(
      "init",
      "Create, idempotently, the bucket, the table (key schema from the rules), the ledger table,\n"
      "the records DLQ, the notification queue with a redrive policy to a poison queue, and the\n"
      "bucket's event notification to the queue. Prints what it created or found.");
  command
      ->add_option("--max-receive-count", options->max_receive_count,
                   "Receives of a notification before it moves to the poison queue")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  command->add_option("--prefix", settings.resources.key_prefix,
                      "Only keys with this prefix notify");
  command->add_option("--suffix", settings.resources.key_suffix,
                      "Only keys with this suffix notify");
  command
      ->add_option("--visibility-timeout", settings.visibility_timeout_s,
                   "The notification queue's visibility timeout in seconds")
      ->check(CLI::Range(10, 43200))
      ->capture_default_str();
  command->callback([&settings, &status, options] {
    auto done = run_init(settings, *options);
    if (!done) {
      fmt::print(stderr, "salesflow init: {}\n", done.error());
      status = kExitFindings;
    }
  });
}

}  // namespace salesflow::app
