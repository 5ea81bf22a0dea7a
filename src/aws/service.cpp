#include "aws/service.hpp"

#include <fmt/format.h>
#include <simdjson.h>

#include <algorithm>
#include <future>
#include <pugixml.hpp>
#include <utility>

namespace salesflow::aws {

std::vector<std::vector<std::size_t>> pack_batches(const std::vector<std::size_t>& sizes,
                                                   std::size_t max_entries, std::size_t max_bytes,
                                                   std::size_t overhead) {
  std::vector<std::vector<std::size_t>> batches;
  std::size_t batch_bytes = overhead;
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    if (batches.empty() ||
        (batches.back().size() == max_entries || batch_bytes + sizes[i] > max_bytes)) {
      batches.emplace_back();
      batch_bytes = overhead;
    }
    batches.back().push_back(i);
    batch_bytes += sizes[i];
  }
  return batches;
}

std::string request_id_of(const HttpResponse& response) {
  for (const std::string_view name :
       {"x-amzn-RequestId", "x-amz-request-id", "x-amzn-request-id"}) {
    if (const auto value = response.header(name)) return std::string(*value);
  }
  return {};
}

namespace {

std::string code_from_status(int status) {
  switch (status) {
    case 400:
      return "BadRequest";
    case 403:
      return "Forbidden";
    case 404:
      return "NotFound";
    case 412:
      return "PreconditionFailed";
    case 429:
      return "TooManyRequestsException";
    case 500:
      return "InternalError";
    case 503:
      return "ServiceUnavailable";
    default:
      return fmt::format("Http{}", status);
  }
}

std::string excerpt(std::string_view body) {
  constexpr std::size_t kMax = 200;
  return std::string(body.substr(0, kMax)) + (body.size() > kMax ? "..." : "");
}

}  // namespace

AwsError parse_json_error(const HttpResponse& response) {
  AwsError error;
  error.http_status = response.status;
  error.request_id = request_id_of(response);
  std::string type;
  if (!response.body.empty()) {
    simdjson::dom::parser parser;
    simdjson::dom::element root;
    if (parser.parse(response.body).get(root) == simdjson::SUCCESS && root.is_object()) {
      std::string_view text;
      if (root["__type"].get(text) == simdjson::SUCCESS) type = std::string(text);
      if (type.empty() && root["code"].get(text) == simdjson::SUCCESS) type = std::string(text);
      if (root["message"].get(text) == simdjson::SUCCESS ||
          root["Message"].get(text) == simdjson::SUCCESS) {
        error.message = std::string(text);
      }
    } else {
      error.message = excerpt(response.body);
    }
  }
  if (type.empty()) {
    if (const auto header = response.header("x-amzn-ErrorType")) type = std::string(*header);
  }
  // "com.amazonaws.dynamodb.v20120810#ThrottlingException" or "Code:http://..."
  if (const auto hash = type.rfind('#'); hash != std::string::npos) type = type.substr(hash + 1);
  if (const auto colon = type.find(':'); colon != std::string::npos) type = type.substr(0, colon);
  error.code = type.empty() ? code_from_status(response.status) : type;
  error.retryable = is_retryable(error);
  return error;
}

AwsError parse_xml_error(const HttpResponse& response) {
  AwsError error;
  error.http_status = response.status;
  error.request_id = request_id_of(response);
  if (!response.body.empty()) {
    pugi::xml_document document;
    if (document.load_buffer(response.body.data(), response.body.size())) {
      pugi::xml_node node = document.child("Error");
      if (!node) node = document.child("ErrorResponse").child("Error");
      error.code = node.child_value("Code");
      error.message = node.child_value("Message");
      if (error.request_id.empty()) error.request_id = node.child_value("RequestId");
    } else {
      error.message = excerpt(response.body);
    }
  }
  if (error.code.empty()) error.code = code_from_status(response.status);
  error.retryable = is_retryable(error);
  return error;
}

Result<std::shared_ptr<ServiceRuntime>> ServiceRuntime::create(ClientConfig config,
                                                               std::string service,
                                                               std::string signing_name,
                                                               std::string_view endpoint_prefix,
                                                               ErrorParser parse_error) {
  if (!config.http || !config.credentials) {
    return tl::unexpected(AwsError{service, "create", 0, "InvalidConfiguration",
                                   "an HttpClient and a CredentialsProvider are required", "",
                                   false, 1});
  }
  Endpoint endpoint;
  if (config.endpoint_url.empty()) {
    endpoint = default_endpoint(endpoint_prefix, config.region);
  } else {
    auto parsed = parse_endpoint_url(config.endpoint_url);
    if (!parsed) return tl::unexpected(parsed.error());
    endpoint = std::move(*parsed);
  }
  if (!config.retry_strategy) config.retry_strategy = std::make_shared<RetryStrategy>();
  return std::make_shared<ServiceRuntime>(std::move(config), std::move(service),
                                          std::move(signing_name), std::move(endpoint),
                                          std::move(parse_error));
}

ServiceRuntime::ServiceRuntime(ClientConfig config, std::string service, std::string signing_name,
                               Endpoint endpoint, ErrorParser parse_error)
    : config_(std::move(config)),
      service_(std::move(service)),
      scope_{config_.region, std::move(signing_name)},
      endpoint_(std::move(endpoint)),
      parse_error_(std::move(parse_error)) {}

struct ServiceRuntime::CallState {
  std::shared_ptr<const ServiceRuntime> runtime;
  ServiceCall call;
  RetryPolicy policy;
  Completion completion;
  bool throttled = false;

  // The outcome, to the observer and then to the caller.
  void done(Result<HttpResponse> result) {
    if (const auto& observer = runtime->config_.observer) {
      RequestRecord record;
      record.service = runtime->service_;
      record.operation = call.operation;
      record.elapsed = std::chrono::steady_clock::now() - started;
      record.attempts = std::max(1, attempts);
      record.throttled = throttled || (!result && is_throttling_code(result.error().code));
      record.ok = result.has_value();
      observer->on_request(record);
    }
    completion(std::move(result));
  }
  std::chrono::steady_clock::time_point started;
  std::uint64_t sent_generation = 0;  // of the rate limiter's turn of the last attempt
  int attempts = 0;
  int last_retry_cost = 0;
  std::optional<AwsError> last_error;
  std::optional<AwsError> last_throttling;  // the last throttling error that was retried

  // What ends the call: `error`, or the throttling before it when `error`
  // only says the call then ran out of time.
  AwsError ending(AwsError error) const {
    if (auto reason = throttling_outlasted(last_throttling, error)) {
      reason->attempts = attempts;
      return *std::move(reason);
    }
    return error;
  }

  // Ends the call with its last error (or DeadlineExceeded) once the
  // operation's deadline has passed; false while there is time left.
  bool deadline_passed() {
    const auto left = remaining();
    if (!left || left->count() != 0) return false;
    AwsError error = last_error.value_or(
        AwsError{"", "", 0, "DeadlineExceeded", "the operation's deadline passed", "", true, 0});
    error = ending(runtime->annotate(std::move(error), call.operation, attempts));
    error.message += " (deadline reached)";
    done(tl::unexpected(std::move(error)));
    return true;
  }

  std::optional<std::chrono::milliseconds> remaining() const {
    if (!policy.deadline) return std::nullopt;
    const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - started);
    return std::max(std::chrono::milliseconds(0), *policy.deadline - elapsed);
  }
};

AwsError ServiceRuntime::annotate(AwsError error, std::string_view operation, int attempts) const {
  error.service = service_;
  error.operation = std::string(operation);
  error.attempts = attempts;
  error.retryable = is_retryable(error);
  return error;
}

AwsError ServiceRuntime::invalid_response(const HttpResponse& response, std::string_view operation,
                                          std::string what) const {
  return annotate(AwsError{"", "", response.status, "InvalidResponse", std::move(what),
                           request_id_of(response), false, 1},
                  operation, 1);
}

Result<void> ServiceRuntime::sign(HttpRequest& request, const SigningOptions& options) const {
  auto credentials = config_.credentials->get();
  if (!credentials) return tl::unexpected(credentials.error());
  sign_request(request, *credentials, scope_, std::chrono::system_clock::now(), options);
  return {};
}

void ServiceRuntime::call(ServiceCall call, Completion done) {
  auto state = std::make_shared<CallState>();
  state->runtime = shared_from_this();
  state->policy = call.policy.value_or(config_.retry);
  call.request.scheme = endpoint_.scheme;
  if (call.request.host.empty())
    call.request.host = endpoint_.host;  // S3 virtual hosts set their own
  state->call = std::move(call);
  state->completion = std::move(done);
  state->started = std::chrono::steady_clock::now();
  if (config_.observer) config_.observer->on_request_started(service_, state->call.operation);
  attempt(state);
}

void ServiceRuntime::attempt(const std::shared_ptr<CallState>& state) {
  const ServiceRuntime& runtime = *state->runtime;
  if (state->deadline_passed()) return;
  // Once the service has throttled this client, every attempt waits for its
  // turn at the client's sending rate (on the I/O thread's timers); a turn
  // made void by a later cut of the rate is taken again.
  AdaptiveRateLimiter& limiter = runtime.config_.retry_strategy->rate_limiter();
  const auto turn = limiter.reserve(std::chrono::steady_clock::now());
  state->sent_generation = turn.generation;
  if (turn.wait > std::chrono::steady_clock::duration::zero()) {
    runtime.config_.http->schedule(std::chrono::ceil<std::chrono::milliseconds>(turn.wait),
                                   [state, turn, &limiter] {
                                     if (limiter.holds(turn)) {
                                       send(state);
                                     } else {
                                       attempt(state);
                                     }
                                   });
    return;
  }
  send(state);
}

void ServiceRuntime::send(const std::shared_ptr<CallState>& state) {
  const ServiceRuntime& runtime = *state->runtime;
  if (state->deadline_passed()) return;  // while waiting for the rate limiter
  const auto remaining = state->remaining();
  ++state->attempts;
  HttpRequest request = state->call.request;
  if (auto signed_ok = runtime.sign(request, state->call.signing); !signed_ok) {
    AwsError error = signed_ok.error();
    error.attempts = state->attempts;
    state->done(tl::unexpected(std::move(error)));
    return;
  }
  RequestOptions options = state->call.http;
  if (remaining) {
    const auto base = options.timeout.value_or(runtime.config_.http->options().request_timeout);
    options.timeout = std::max(std::chrono::milliseconds(1), std::min(base, *remaining));
  }
  runtime.config_.http->submit(
      std::move(request),
      [state](Result<HttpResponse> result) { on_result(state, std::move(result)); }, options);
}

void ServiceRuntime::on_result(const std::shared_ptr<CallState>& state,
                               Result<HttpResponse> result) {
  const ServiceRuntime& runtime = *state->runtime;
  if (result) {
    const int status = result->status;
    const bool ok = (status >= 200 && status < 300) ||
                    (state->call.accept_status && state->call.accept_status(status));
    if (ok) {
      runtime.config_.retry_strategy->on_success(state->last_retry_cost);
      const bool throttled = state->call.throttled_answer && state->call.throttled_answer(*result);
      state->throttled = state->throttled || throttled;
      runtime.config_.retry_strategy->rate_limiter().on_response(std::chrono::steady_clock::now(),
                                                                 throttled, state->sent_generation);
      state->done(std::move(result));
      return;
    }
  }
  AwsError error = result ? runtime.parse_error_(*result) : result.error();
  error = runtime.annotate(std::move(error), state->call.operation, state->attempts);
  if (result) {  // an answer, not a transport failure: the service spoke
    runtime.config_.retry_strategy->rate_limiter().on_response(
        std::chrono::steady_clock::now(), is_throttling_code(error.code), state->sent_generation);
  }
  const auto decision = runtime.config_.retry_strategy->decide(error, state->attempts,
                                                               state->policy, state->remaining());
  if (!decision.retry) {
    error = state->ending(std::move(error));
    if (error.retryable && state->attempts > 1) error.message += fmt::format(" ({})", decision.why);
    state->done(tl::unexpected(std::move(error)));
    return;
  }
  state->last_retry_cost = decision.cost;
  if (is_throttling_code(error.code)) {
    state->throttled = true;
    state->last_throttling = error;
  }
  if (state->call.retry_counter != nullptr) {
    ++*state->call.retry_counter;
  }
  if (const auto& observer = runtime.config_.observer) {
    observer->on_retry(RetryRecord{runtime.service_, state->call.operation, state->attempts, error,
                                   decision.delay});
  }
  state->last_error = std::move(error);
  runtime.config_.http->schedule(decision.delay, [state] { attempt(state); });
}

AwsError ServiceRuntime::io_thread_error(std::string_view operation) const {
  return annotate(AwsError{"", "", 0, "BlockingCallOnIoThread",
                           "a blocking call was made on the HTTP I/O thread", "", false, 0},
                  operation, 0);
}

Result<HttpResponse> ServiceRuntime::call_blocking(ServiceCall call) {
  if (config_.http->on_io_thread()) return tl::unexpected(io_thread_error(call.operation));
  std::promise<Result<HttpResponse>> promise;
  auto future = promise.get_future();
  this->call(std::move(call),
             [&promise](Result<HttpResponse> r) { promise.set_value(std::move(r)); });
  return future.get();
}

ServiceCall ServiceRuntime::json_call(std::string_view target_prefix, std::string operation,
                                      std::string body) const {
  ServiceCall call;
  call.request.method = "POST";
  call.request.path = endpoint_.base_path.empty() ? "/" : endpoint_.base_path + "/";
  call.request.headers = {{"Content-Type", "application/x-amz-json-1.0"},
                          {"X-Amz-Target", fmt::format("{}.{}", target_prefix, operation)}};
  call.request.body = std::move(body);
  call.operation = std::move(operation);
  return call;
}

}  // namespace salesflow::aws
