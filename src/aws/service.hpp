#pragma once
// The signed, retried request every service client is built on: sign each
// attempt afresh, send it on the shared HttpClient, classify failures, back
// off on the I/O thread's timers, and surface one AwsError at the end.

#include <atomic>
#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "aws/credentials.hpp"
#include "aws/endpoint.hpp"
#include "aws/error.hpp"
#include "aws/http_client.hpp"
#include "aws/retry.hpp"
#include "aws/sigv4.hpp"

namespace salesflow::aws {

// One AWS call after its last attempt, for metrics.
struct RequestRecord {
  std::string_view service;
  std::string_view operation;
  std::chrono::duration<double> elapsed;  // first attempt to outcome, backoff included
  int attempts = 1;
  bool throttled = false;  // some attempt was throttled
  bool ok = false;
};

// One failed attempt that is tried again after `delay`.
struct RetryRecord {
  std::string_view service;
  std::string_view operation;
  int attempt = 1;  // the attempt that failed (1: the first)
  const AwsError& error;
  std::chrono::milliseconds delay{0};
};

// Told about every call: started, each retry, finished. Runs on the caller's
// thread (started) or the I/O thread (the others), so it must be quick and
// not block. Each started call is finished exactly once.
class RequestObserver {
 public:
  virtual ~RequestObserver() = default;
  virtual void on_request_started(std::string_view service, std::string_view operation) = 0;
  virtual void on_retry(const RetryRecord& retry) = 0;
  virtual void on_request(const RequestRecord& record) = 0;
  // A refresh of temporary credentials ahead of their expiry failed (on the
  // credentials refresher's thread): requests keep signing with the cached
  // ones for `valid_for`, and the refresh is tried again.
  virtual void on_credentials_refresh_failure(const AwsError& error,
                                              std::chrono::seconds valid_for) = 0;
};

// ClientConfig: the configuration of one service client, what it is given
// and never changes: the shared HTTP client and credentials chain, the region,
// the endpoint, the retry policy and the request observer. The process-wide
// configuration it is filled in from (region, every service's endpoint,
// profile, CA bundle) is aws::AwsConfig (src/aws/config.hpp); app::AwsClients
// makes one ClientConfig per service from it. A ClientConfig owns nothing but
// shares of what every client shares.
struct ClientConfig {
  std::shared_ptr<HttpClient> http;
  std::shared_ptr<CredentialsProvider> credentials;
  std::string region = "us-east-1";
  std::string endpoint_url;  // empty: the region's public endpoint
  RetryPolicy retry;
  std::shared_ptr<RetryStrategy> retry_strategy;  // null: the client makes its own
  std::shared_ptr<RequestObserver> observer;      // null: nobody is told
};

using ErrorParser = std::function<AwsError(const HttpResponse&)>;

struct ServiceCall {
  std::string operation;
  HttpRequest request;  // unsigned; scheme and host are filled in from the endpoint
  SigningOptions signing;
  std::optional<RetryPolicy> policy;  // overrides the client's
  RequestOptions http;
  // Statuses other than 2xx that count as success (S3 HEAD 304, say).
  std::function<bool(int)> accept_status;
  // Incremented once per retry, when given (per-object accounting by callers);
  // must outlive the call.
  std::atomic<std::uint64_t>* retry_counter = nullptr;
  // Whether a successful answer still means "slow down" (a BatchWriteItem
  // that hands items back), for the client's rate limiter; when empty, only
  // throttling errors do.
  std::function<bool(const HttpResponse&)> throttled_answer;
};

// Runs an async operation and waits for its completion (never on the I/O thread).
template <class T, class Start>
T block_on(Start&& start) {
  std::promise<T> promise;
  auto future = promise.get_future();
  start([&promise](T value) { promise.set_value(std::move(value)); });
  return future.get();
}

// Splits entries of the given sizes, in order, into batches of at most
// `max_entries` whose sizes plus `overhead` stay within `max_bytes`; an entry
// larger than that goes alone. Indices into `sizes`; none for no entries.
std::vector<std::vector<std::size_t>> pack_batches(const std::vector<std::size_t>& sizes,
                                                   std::size_t max_entries, std::size_t max_bytes,
                                                   std::size_t overhead = 0);

// Success or the error of a call whose response carries nothing to read.
[[nodiscard]] inline Result<void> without_body(Result<HttpResponse> result) {
  if (!result) return tl::unexpected(std::move(result.error()));
  return {};
}

// ServiceRuntime: the signed, retried transport of one service, built from
// its ClientConfig. It owns that config, the SigV4 scope, the resolved
// endpoint, the service's error parser and (through the config) its retry
// strategy's token bucket; each of S3Client, DynamoDbClient and SqsClient
// holds one, shared with the calls in flight (shared_from_this), so a call
// that outlives its client still completes. It knows requests, not
// operations: the clients build each ServiceCall and parse its answer.
class ServiceRuntime : public std::enable_shared_from_this<ServiceRuntime> {
 public:
  using Completion = std::function<void(Result<HttpResponse>)>;

  // `service` names errors ("dynamodb"); `signing_name` is the SigV4 service;
  // `endpoint_prefix` picks the default endpoint.
  [[nodiscard]] static Result<std::shared_ptr<ServiceRuntime>> create(
      ClientConfig config, std::string service, std::string signing_name,
      std::string_view endpoint_prefix, ErrorParser parse_error);

  // `done` runs on the HttpClient's I/O thread.
  void call(ServiceCall call, Completion done);
  [[nodiscard]] Result<HttpResponse> call_blocking(ServiceCall call);
  // The blocking form of an async operation: `start(done)` begins it and the
  // caller's thread waits for `done`. Refused on the I/O thread, where the
  // wait would never end.
  template <class T, class Start>
  [[nodiscard]] Result<T> wait_for(std::string_view operation, Start&& start) const {
    if (http().on_io_thread()) return tl::unexpected(io_thread_error(operation));
    return block_on<Result<T>>(std::forward<Start>(start));
  }

  // AWS JSON protocol: POST / with X-Amz-Target "<target_prefix>.<operation>".
  ServiceCall json_call(std::string_view target_prefix, std::string operation,
                        std::string body) const;

  // Fills in service/operation/attempts/retryable of an error from elsewhere.
  AwsError annotate(AwsError error, std::string_view operation, int attempts) const;
  // InvalidResponse: a successful answer whose body could not be read as the
  // operation's result (`what` says how), with its status and request id.
  AwsError invalid_response(const HttpResponse& response, std::string_view operation,
                            std::string what) const;
  // BlockingCallOnIoThread: waiting there for a response would deadlock the client.
  AwsError io_thread_error(std::string_view operation) const;

  const Endpoint& endpoint() const { return endpoint_; }
  const ClientConfig& config() const { return config_; }
  const std::string& service() const { return service_; }
  HttpClient& http() const { return *config_.http; }
  RetryStrategy& retry_strategy() const { return *config_.retry_strategy; }
  const ErrorParser& error_parser() const { return parse_error_; }
  // Signs `request` for this service with fresh credentials.
  [[nodiscard]] Result<void> sign(HttpRequest& request, const SigningOptions& options) const;

  ServiceRuntime(ClientConfig config, std::string service, std::string signing_name,
                 Endpoint endpoint, ErrorParser parse_error);

 private:
  struct CallState;
  static void attempt(const std::shared_ptr<CallState>& state);
  static void send(const std::shared_ptr<CallState>& state);
  static void on_result(const std::shared_ptr<CallState>& state, Result<HttpResponse> result);

  ClientConfig config_;
  std::string service_;
  SigningScope scope_;
  Endpoint endpoint_;
  ErrorParser parse_error_;
};

// {"__type":"prefix#Code","message"|"Message":"..."} plus x-amzn-ErrorType.
AwsError parse_json_error(const HttpResponse& response);
// <Error><Code>..</Code><Message>..</Message><RequestId>..</RequestId></Error>;
// bodiless responses (HEAD) get a code from the status.
AwsError parse_xml_error(const HttpResponse& response);
std::string request_id_of(const HttpResponse& response);

}  // namespace salesflow::aws
