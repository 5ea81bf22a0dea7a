// Requests per second through HttpClient (libcurl multi, one I/O thread)
// against an in-process cpp-httplib server on loopback, N requests in flight,
// with and without SigV4 signing of every request.
#include <benchmark/benchmark.h>
#include <httplib.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "aws/credentials.hpp"
#include "aws/http_client.hpp"
#include "aws/sigv4.hpp"

namespace {

using salesflow::aws::HttpClient;
using salesflow::aws::HttpRequest;
using salesflow::aws::HttpResponse;
using salesflow::aws::Result;

class LoopbackServer {
 public:
  LoopbackServer() {
    server_.set_keep_alive_max_count(1000000);
    server_.set_tcp_nodelay(true);
    server_.Post("/", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(R"({"UnprocessedItems":{}})", "application/x-amz-json-1.0");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }
  ~LoopbackServer() {
    server_.stop();
    thread_.join();
  }
  std::string host() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
};

void run(benchmark::State& state, bool sign) {
  LoopbackServer server;
  salesflow::aws::HttpOptions options;
  options.max_connections_per_host = 8;  // the server's worker threads
  HttpClient client(options);
  const salesflow::aws::Credentials credentials{"AKIDEXAMPLE", "secret", "", std::nullopt};
  const salesflow::aws::SigningScope scope{"us-east-1", "dynamodb"};
  HttpRequest prototype;
  prototype.method = "POST";
  prototype.scheme = "http";
  prototype.host = server.host();
  prototype.headers = {{"Content-Type", "application/x-amz-json-1.0"},
                       {"X-Amz-Target", "DynamoDB_20120810.BatchWriteItem"}};
  prototype.body = std::string(2000, 'x');
  const auto in_flight = static_cast<int>(state.range(0));

  std::mutex mutex;
  std::condition_variable cv;
  int outstanding = 0;
  std::atomic<long> failures{0};
  long completed = 0;
  for (auto _ : state) {
    HttpRequest request = prototype;
    if (sign) {
      salesflow::aws::sign_request(request, credentials, scope, std::chrono::system_clock::now());
    }
    {
      std::unique_lock lock(mutex);
      cv.wait(lock, [&] { return outstanding < in_flight; });
      ++outstanding;
    }
    client.submit(std::move(request), [&](Result<HttpResponse> response) {
      if (!response || response->status != 200) ++failures;
      const std::lock_guard lock(mutex);
      --outstanding;
      cv.notify_one();
    });
    ++completed;
  }
  std::unique_lock lock(mutex);
  cv.wait(lock, [&] { return outstanding == 0; });
  state.SetItemsProcessed(completed);
  state.counters["failures"] = static_cast<double>(failures.load());
}

void BM_SignedRequests(benchmark::State& state) {
  run(state, true);
}
void BM_UnsignedRequests(benchmark::State& state) {
  run(state, false);
}

BENCHMARK(BM_SignedRequests)->Arg(1)->Arg(8)->Arg(32)->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_UnsignedRequests)
    ->Arg(1)
    ->Arg(8)
    ->Arg(32)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
