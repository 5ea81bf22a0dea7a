// The ceiling an end-to-end run is compared with: a plain loop of
// BatchWriteItem requests (25 items of ~1 KB each, `in_flight` requests
// outstanding) against the DynamoDB endpoint in AWS_ENDPOINT_URL_DYNAMODB,
// through the same client the worker uses. Items/s is the most any worker can
// write to that endpoint; scripts/bench-e2e.sh runs it beside the worker.
//
//   export AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:4567
//   AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test bench_dynamodb_ceiling
//   --benchmark_min_time=10

#include <benchmark/benchmark.h>
#include <fmt/core.h>

#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <mutex>

#include "aws/dynamodb.hpp"

namespace {

using namespace salesflow;

std::string item(std::uint64_t n) {
  return fmt::format(
      R"({{"OrderId":{{"S":"ceiling-{}"}},"order-info":{{"M":{{"item-id":{{"S":"IT-{:04}"}},)"
      R"("item-desc":{{"S":"{}"}},"qty":{{"N":"{}"}}}}}},"contact-info":{{"M":{{"name":)"
      R"({{"S":"Customer {}"}},"email":{{"S":"c{}@example.com"}}}}}},"_source":{{"S":)"
      R"("s3://bench/ceiling.jsonl"}},"_record_index":{{"N":"{}"}}}})",
      n, n % 9999, std::string(800, 'x'), n % 50, n, n, n);
}

void BM_BatchWriteCeiling(benchmark::State& state) {
  const char* endpoint = std::getenv("AWS_ENDPOINT_URL_DYNAMODB");
  if (endpoint == nullptr) {
    state.SkipWithError("AWS_ENDPOINT_URL_DYNAMODB is not set");
    return;
  }
  auto http = std::make_shared<aws::HttpClient>();
  aws::ClientConfig config{
      http,        aws::make_static_credentials({"test", "test", "", std::nullopt}),
      "us-east-1", endpoint,
      {},          nullptr,
      nullptr};
  config.retry.max_attempts = 10;
  auto client = aws::DynamoDbClient::create(config);
  if (!client) {
    state.SkipWithError(client.error().to_string().c_str());
    return;
  }
  const std::string table = fmt::format("ceiling-{}", std::rand());
  if (!client->create_table({table, {"OrderId", "S"}, std::nullopt}) ||
      !client->wait_until_active(table, std::chrono::seconds(30))) {
    state.SkipWithError("cannot create the table");
    return;
  }
  const auto in_flight = static_cast<int>(state.range(0));
  std::uint64_t next = 0;
  std::mutex mutex;
  std::condition_variable done;
  int outstanding = 0;
  std::atomic<std::uint64_t> failed{0};
  for (auto _ : state) {
    std::vector<std::string> batch;
    batch.reserve(25);
    for (int i = 0; i < 25; ++i) {
      batch.push_back(item(next++));
    }
    {
      std::unique_lock lock(mutex);
      done.wait(lock, [&] { return outstanding < in_flight; });
      ++outstanding;
    }
    client->batch_write_async(table, std::move(batch), [&](aws::BatchWriteOutcome outcome) {
      if (!outcome.ok()) {
        failed += outcome.unwritten.size();
      }
      {
        const std::scoped_lock lock(mutex);
        --outstanding;
      }
      done.notify_all();
    });
  }
  std::unique_lock lock(mutex);
  done.wait(lock, [&] { return outstanding == 0; });
  lock.unlock();
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * 25);
  state.counters["failed_items"] = static_cast<double>(failed.load());
  if (!client->delete_table(table)) {
    state.SkipWithError("cannot delete the table");
  }
}
BENCHMARK(BM_BatchWriteCeiling)
    ->Arg(4)
    ->Arg(16)
    ->Arg(64)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
