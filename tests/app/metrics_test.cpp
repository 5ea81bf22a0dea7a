#include "app/metrics.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "app/observe.hpp"
#include "job_results.hpp"
#include "pipeline/object_job.hpp"

namespace salesflow::app {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

// The value of the sample whose name-and-labels is exactly `series`.
std::optional<double> sample(const std::string& exposition, const std::string& series) {
  std::istringstream lines(exposition);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.size() > series.size() && line.compare(0, series.size(), series) == 0 &&
        line[series.size()] == ' ') {
      return std::stod(line.substr(series.size() + 1));
    }
  }
  return std::nullopt;
}

std::string scrape(int port) {
  httplib::Client client("127.0.0.1", port);
  client.set_connection_timeout(5);
  client.set_read_timeout(5);
  const auto response = client.Get("/metrics");
  EXPECT_TRUE(response) << "GET /metrics failed: " << httplib::to_string(response.error());
  if (!response) return {};
  EXPECT_EQ(response->status, 200);
  EXPECT_THAT(response->get_header_value("Content-Type"), StartsWith("text/plain"));
  return response->body;
}

pipeline::ObjectReport completed_report() {
  pipeline::ObjectReport report;
  report.status = pipeline::ObjectStatus::completed;
  report.tally.records = 10;
  report.tally.valid = 6;
  report.tally.rejected = 3;
  report.tally.duplicates = 1;
  report.tally.by_reason[static_cast<std::size_t>(core::ReasonCode::missing)] = 2;
  report.tally.by_reason[static_cast<std::size_t>(core::ReasonCode::wrong_type)] = 1;
  report.conflicts = 1;
  report.written = 5;
  report.rejected = 4;
  report.faults = 1;
  report.items_put = 6;
  report.envelopes_sent = 5;
  report.raw_bytes = 1000;
  report.decompressed_bytes = 4000;
  return report;
}

std::unique_ptr<Metrics> serving_metrics() {
  auto metrics = Metrics::create("127.0.0.1:0");
  EXPECT_TRUE(metrics.has_value()) << metrics.error();
  return metrics ? std::move(*metrics) : std::make_unique<Metrics>();
}

TEST(Metrics, ServesTheRecordedValuesOverHttp) {
  auto metrics = serving_metrics();
  ASSERT_TRUE(metrics->port().has_value());
  EXPECT_GT(*metrics->port(), 0);

  metrics->object_finished(completed_report(), 1.5);
  metrics->request_finished("dynamodb", "BatchWriteItem", 0.02, 3, true, true);
  metrics->set_objects_in_flight(3);
  for (int i = 0; i < 17; ++i) metrics->request_started();
  metrics->set_queue_lag(42.5);

  const std::string text = scrape(*metrics->port());
  EXPECT_EQ(sample(text, R"(salesflow_records_total{outcome="written"})"), 5);
  EXPECT_EQ(sample(text, R"(salesflow_records_total{outcome="rejected"})"), 4);
  EXPECT_EQ(sample(text, R"(salesflow_records_total{outcome="duplicate"})"), 1);
  EXPECT_EQ(sample(text, R"(salesflow_rejections_total{reason="missing"})"), 2);
  EXPECT_EQ(sample(text, R"(salesflow_rejections_total{reason="wrong_type"})"), 1);
  EXPECT_EQ(sample(text, R"(salesflow_rejections_total{reason="duplicate_key"})"), 0);
  EXPECT_EQ(sample(text, "salesflow_file_faults_total"), 1);
  EXPECT_EQ(sample(text, R"(salesflow_objects_total{status="completed"})"), 1);
  EXPECT_EQ(sample(text, R"(salesflow_objects_total{status="failed"})"), 0);
  EXPECT_EQ(sample(text, "salesflow_bytes_read_total"), 1000);
  EXPECT_EQ(sample(text, "salesflow_bytes_decompressed_total"), 4000);
  EXPECT_EQ(sample(text, "salesflow_items_put_total"), 6);
  EXPECT_EQ(sample(text, "salesflow_dlq_messages_total"), 5);
  EXPECT_EQ(sample(text, "salesflow_object_duration_seconds_count"), 1);
  EXPECT_EQ(sample(text, "salesflow_object_duration_seconds_sum"), 1.5);
  EXPECT_EQ(sample(text, R"(salesflow_object_duration_seconds_bucket{le="1"})"), 0);
  EXPECT_EQ(sample(text, R"(salesflow_object_duration_seconds_bucket{le="2.5"})"), 1);
  const std::string op = R"({operation="BatchWriteItem",service="dynamodb"})";
  EXPECT_EQ(sample(text, "salesflow_aws_request_duration_seconds_count" + op), 1);
  EXPECT_EQ(sample(text, "salesflow_aws_retries_total" + op), 2);
  EXPECT_EQ(sample(text, "salesflow_aws_throttles_total" + op), 1);
  EXPECT_EQ(sample(text, "salesflow_aws_request_errors_total" + op), 0);
  EXPECT_EQ(sample(text, "salesflow_objects_in_flight"), 3);
  EXPECT_EQ(sample(text, "salesflow_aws_requests_in_flight"), 16);  // one of them finished
  EXPECT_EQ(sample(text, "salesflow_queue_lag_seconds"), 42.5);
  EXPECT_THAT(text, HasSubstr("# TYPE salesflow_object_duration_seconds histogram"));
}

TEST(Metrics, LaterScrapesSeeLaterValues) {
  auto metrics = serving_metrics();
  ASSERT_TRUE(metrics->port().has_value());
  metrics->set_queue_lag(1);
  EXPECT_EQ(sample(scrape(*metrics->port()), "salesflow_queue_lag_seconds"), 1);
  metrics->set_queue_lag(0);
  metrics->object_finished(completed_report(), 0.1);
  metrics->object_finished(completed_report(), 0.1);
  const std::string text = scrape(*metrics->port());
  EXPECT_EQ(sample(text, "salesflow_queue_lag_seconds"), 0);
  EXPECT_EQ(sample(text, R"(salesflow_records_total{outcome="written"})"), 10);
}

TEST(Metrics, UnfinishedObjectsCountTheirWorkButNotTheirRecords) {
  Metrics metrics;
  for (const auto status : {pipeline::ObjectStatus::failed, pipeline::ObjectStatus::interrupted,
                            pipeline::ObjectStatus::lease_lost}) {
    auto report = completed_report();
    report.status = status;
    metrics.object_finished(report, 2);
  }
  const std::string text = metrics.serialize();
  EXPECT_EQ(sample(text, R"(salesflow_records_total{outcome="written"})"), 0);
  EXPECT_EQ(sample(text, R"(salesflow_rejections_total{reason="missing"})"), 0);
  EXPECT_EQ(sample(text, "salesflow_file_faults_total"), 0);
  EXPECT_EQ(sample(text, "salesflow_bytes_read_total"), 3000);
  EXPECT_EQ(sample(text, "salesflow_items_put_total"), 18);
  EXPECT_EQ(sample(text, "salesflow_dlq_messages_total"), 15);
  EXPECT_EQ(sample(text, R"(salesflow_objects_total{status="failed"})"), 1);
  EXPECT_EQ(sample(text, R"(salesflow_objects_total{status="interrupted"})"), 1);
  EXPECT_EQ(sample(text, R"(salesflow_objects_total{status="lease_lost"})"), 1);
  EXPECT_EQ(sample(text, "salesflow_object_duration_seconds_count"), 3);
}

TEST(Metrics, SkippedObjectsAndNotificationKinds) {
  Metrics metrics;
  metrics.object_skipped(kObjectSkippedDone);
  metrics.object_skipped(kObjectSkippedDone);
  metrics.object_skipped("some_new_status");
  metrics.notification_received(pipeline::NotificationKind::objects);
  metrics.notification_received(pipeline::NotificationKind::test_event);
  metrics.notification_received(pipeline::NotificationKind::invalid);
  metrics.notification_received(pipeline::NotificationKind::invalid);
  const std::string text = metrics.serialize();
  EXPECT_EQ(sample(text, R"(salesflow_objects_total{status="skipped_done"})"), 2);
  EXPECT_EQ(sample(text, R"(salesflow_objects_total{status="lease_busy"})"), 0);
  EXPECT_EQ(sample(text, R"(salesflow_objects_total{status="some_new_status"})"), 1);
  EXPECT_EQ(sample(text, R"(salesflow_notifications_total{kind="objects"})"), 1);
  EXPECT_EQ(sample(text, R"(salesflow_notifications_total{kind="test_event"})"), 1);
  EXPECT_EQ(sample(text, R"(salesflow_notifications_total{kind="ignored"})"), 0);
  EXPECT_EQ(sample(text, R"(salesflow_notifications_total{kind="invalid"})"), 2);
}

// Failures that cost no record but work or time are counted, from zero.
TEST(Metrics, CheckpointLedgerAndCredentialFailuresAreCounted) {
  Metrics metrics;
  const std::string before = metrics.serialize();
  EXPECT_EQ(sample(before, "salesflow_checkpoint_failures_total"), 0.0);
  EXPECT_EQ(sample(before, "salesflow_ledger_failures_total"), 0.0);
  EXPECT_EQ(sample(before, "salesflow_credentials_refresh_failures_total"), 0.0);
  auto report = completed_report();
  report.checkpoint_failures = 3;
  metrics.object_finished(report, 1.0);
  metrics.ledger_failed(2);
  metrics.ledger_failed(0);
  metrics.credentials_refresh_failed();
  const std::string after = metrics.serialize();
  EXPECT_EQ(sample(after, "salesflow_checkpoint_failures_total"), 3.0);
  EXPECT_EQ(sample(after, "salesflow_ledger_failures_total"), 2.0);
  EXPECT_EQ(sample(after, "salesflow_credentials_refresh_failures_total"), 1.0);
}

TEST(Metrics, FailedAndFirstTimeRequests) {
  Metrics metrics;
  metrics.request_finished("sqs", "SendMessageBatch", 0.5, 1, false, false);
  metrics.request_finished("sqs", "SendMessageBatch", 0.004, 1, false, true);
  const std::string text = metrics.serialize();
  const std::string op = R"({operation="SendMessageBatch",service="sqs"})";
  EXPECT_EQ(sample(text, "salesflow_aws_request_duration_seconds_count" + op), 2);
  EXPECT_EQ(sample(text, "salesflow_aws_request_duration_seconds_sum" + op), 0.504);
  EXPECT_EQ(
      sample(
          text,
          R"(salesflow_aws_request_duration_seconds_bucket{operation="SendMessageBatch",service="sqs",le="0.005"})"),
      1);
  EXPECT_EQ(sample(text, "salesflow_aws_retries_total" + op), 0);
  EXPECT_EQ(sample(text, "salesflow_aws_throttles_total" + op), 0);
  EXPECT_EQ(sample(text, "salesflow_aws_request_errors_total" + op), 1);
}

TEST(Metrics, ConcurrentCallsCreateEachSeriesOnceAndLoseNoCounts) {
  Metrics metrics;
  constexpr int kThreads = 4;
  constexpr int kCalls = 2000;
  const std::vector<std::string> operations = {"PutObject", "GetObject", "HeadObject"};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kCalls; ++i) {
        metrics.request_finished("s3", operations[i % operations.size()], 0.001, 2, false, true);
        metrics.object_skipped(kObjectLeaseBusy);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  const std::string text = metrics.serialize();
  double retries = 0;
  for (const auto& operation : operations) {
    const std::string labels = R"({operation=")" + operation + R"(",service="s3"})";
    const auto count = sample(text, "salesflow_aws_request_duration_seconds_count" + labels);
    ASSERT_TRUE(count.has_value()) << operation;
    retries += sample(text, "salesflow_aws_retries_total" + labels).value_or(0);
  }
  EXPECT_EQ(retries, kThreads * kCalls);
  EXPECT_EQ(sample(text, R"(salesflow_objects_total{status="lease_busy"})"), kThreads * kCalls);
  // One series per operation, not one per thread.
  std::size_t series = 0;
  for (std::size_t at = text.find("salesflow_aws_retries_total{"); at != std::string::npos;
       at = text.find("salesflow_aws_retries_total{", at + 1)) {
    ++series;
  }
  EXPECT_EQ(series, operations.size());
}

TEST(Metrics, WithoutAnAddressThereIsNoEndpoint) {
  auto metrics = Metrics::create("");
  ASSERT_TRUE(metrics.has_value()) << metrics.error();
  EXPECT_FALSE((*metrics)->port().has_value());
  EXPECT_THAT((*metrics)->serialize(), HasSubstr("salesflow_queue_lag_seconds 0"));
}

TEST(Metrics, BindingAPortInUseIsAnError) {
  auto first = serving_metrics();
  ASSERT_TRUE(first->port().has_value());
  const std::string address = "127.0.0.1:" + std::to_string(*first->port());
  const auto second = Metrics::create(address);
  ASSERT_FALSE(second.has_value());
  EXPECT_THAT(second.error(), StartsWith("cannot serve metrics on " + address + ": "));
  // The first endpoint is unharmed.
  EXPECT_TRUE(sample(scrape(*first->port()), "salesflow_queue_lag_seconds").has_value());
}

TEST(Metrics, BindingAnAddressNotOnThisHostIsAnError) {
  const auto metrics = Metrics::create("192.0.2.1:9464");  // TEST-NET-1, never local
  ASSERT_FALSE(metrics.has_value());
  EXPECT_THAT(metrics.error(), StartsWith("cannot serve metrics on 192.0.2.1:9464"));
}

TEST(Metrics, MalformedAddressesAreErrors) {
  for (const std::string_view address :
       {"9464", "127.0.0.1", ":9464", "127.0.0.1:", "127.0.0.1:http", "127.0.0.1:70000",
        "127.0.0.1:9464s", "127.0.0.1:1,127.0.0.1:2", "::1:9464", "127.0.0.1:-1"}) {
    const auto metrics = Metrics::create(address);
    ASSERT_FALSE(metrics.has_value()) << address;
    EXPECT_THAT(metrics.error(), StartsWith("invalid metrics address \"" + std::string(address)))
        << address;
    EXPECT_THAT(metrics.error(), HasSubstr("(expected HOST:PORT)"));
  }
}

TEST(MessageAge, FromSentTimestamp) {
  const auto now =
      std::chrono::system_clock::time_point(std::chrono::milliseconds(1'700'000'060'500));
  EXPECT_EQ(message_age_seconds("1700000000000", now), 60.5);
  EXPECT_EQ(message_age_seconds("1700000060500", now), 0.0);
  EXPECT_EQ(message_age_seconds("1700000070000", now), 0.0);  // sender clock ahead
  EXPECT_FALSE(message_age_seconds("", now).has_value());
  EXPECT_FALSE(message_age_seconds("17e11", now).has_value());
  EXPECT_FALSE(message_age_seconds("-5", now).has_value());
  EXPECT_FALSE(message_age_seconds("12 ", now).has_value());
}

// ---- the observer over it (app/observe.hpp)

using test::kObject;
using test::settled;

TEST(MetricsObserver, RequestsInFlightRiseAndFallWithTheirCalls) {
  Metrics metrics;
  MetricsObserver observer(metrics);
  observer.on_request_started("dynamodb", "BatchWriteItem");
  observer.on_request_started("sqs", "SendMessageBatch");
  EXPECT_EQ(sample(metrics.serialize(), "salesflow_aws_requests_in_flight"), 2);
  observer.on_request(aws::RequestRecord{"dynamodb", "BatchWriteItem", std::chrono::milliseconds(3),
                                         2, true, true});
  const std::string text = metrics.serialize();
  EXPECT_EQ(sample(text, "salesflow_aws_requests_in_flight"), 1);
  const std::string op = R"({operation="BatchWriteItem",service="dynamodb"})";
  EXPECT_EQ(sample(text, "salesflow_aws_retries_total" + op), 1);
  EXPECT_EQ(sample(text, "salesflow_aws_throttles_total" + op), 1);
}

TEST(MetricsObserver, NotificationsAreCountedByKind) {
  Metrics metrics;
  MetricsObserver observer(metrics);
  observer.notification_received(pipeline::NotificationKind::objects);
  observer.notification_received(pipeline::NotificationKind::objects);
  observer.notification_received(pipeline::NotificationKind::test_event);
  const std::string text = metrics.serialize();
  EXPECT_EQ(sample(text, R"(salesflow_notifications_total{kind="objects"})"), 2);
  EXPECT_EQ(sample(text, R"(salesflow_notifications_total{kind="test_event"})"), 1);
  EXPECT_EQ(sample(text, R"(salesflow_notifications_total{kind="invalid"})"), 0);
}

TEST(MetricsObserver, SettledObjectsAreSkipsAndProcessedOnesAreFinished) {
  Metrics metrics;
  MetricsObserver observer(metrics);
  observer.object_finished(kObject, settled(pipeline::JobOutcome::already_done, "already done"));
  observer.object_finished(kObject, settled(pipeline::JobOutcome::missing, ""));
  pipeline::JobResult done = settled(pipeline::JobOutcome::completed, "");
  done.report.tally.records = 3;
  done.report.tally.valid = 3;
  done.report.written = 3;
  done.ledger_failures.push_back(pipeline::Failure{pipeline::FailureStage::ledger, "x", {}});
  observer.object_finished(kObject, done);
  const std::string text = metrics.serialize();
  EXPECT_EQ(sample(text, R"(salesflow_objects_total{status="skipped_done"})"), 1);
  EXPECT_EQ(sample(text, R"(salesflow_objects_total{status="not_found"})"), 1);
  EXPECT_EQ(sample(text, R"(salesflow_objects_total{status="completed"})"), 1);
  EXPECT_EQ(sample(text, R"(salesflow_records_total{outcome="written"})"), 3);
  EXPECT_EQ(sample(text, "salesflow_ledger_failures_total"), 1);
}

}  // namespace
}  // namespace salesflow::app
