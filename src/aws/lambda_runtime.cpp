#include "aws/lambda_runtime.hpp"

#include <charconv>
#include <utility>

#include "base/json_string.hpp"

namespace salesflow::aws {
namespace {

constexpr std::string_view kApi = "/2018-06-01";

AwsError runtime_error(std::string operation, int status, std::string message) {
  AwsError error;
  error.service = "lambda-runtime";
  error.operation = std::move(operation);
  error.http_status = status;
  error.code = status == 0 ? "RuntimeApiUnreachable" : "RuntimeApiError";
  error.message = std::move(message);
  return error;
}

HttpRequest request(const std::string& endpoint, std::string method, std::string path) {
  HttpRequest http;
  http.method = std::move(method);
  http.scheme = "http";
  http.host = endpoint;
  http.path = std::move(path);
  return http;
}

}  // namespace

std::string function_error_json(const FunctionError& error) {
  std::string json = R"({"errorMessage":)";
  base::append_json_string(json, error.message);
  json += R"(,"errorType":)";
  base::append_json_string(json, error.type);
  json += "}";
  return json;
}

LambdaRuntimeClient::LambdaRuntimeClient(std::string endpoint)
    : endpoint_(std::move(endpoint)),
      // Loopback only: a short connect timeout; the request timeouts are per call.
      http_(std::make_shared<HttpClient>(HttpOptions{.connect_timeout = std::chrono::seconds(2)})) {
}

Result<Invocation> LambdaRuntimeClient::next() {
  auto answer =
      http_->send(request(endpoint_, "GET", std::string(kApi) + "/runtime/invocation/next"),
                  RequestOptions{.timeout = std::chrono::milliseconds(0)});
  if (!answer) {
    AwsError error = std::move(answer.error());
    error.service = "lambda-runtime";
    error.operation = "NextInvocation";
    return tl::unexpected(std::move(error));
  }
  if (answer->status != 200) {
    return tl::unexpected(runtime_error(
        "NextInvocation", answer->status,
        "the Runtime API answered " + std::to_string(answer->status) + ": " + answer->body));
  }
  Invocation invocation;
  const auto id = answer->header("Lambda-Runtime-Aws-Request-Id");
  const auto deadline = answer->header("Lambda-Runtime-Deadline-Ms");
  if (!id || id->empty()) {
    return tl::unexpected(runtime_error("NextInvocation", answer->status,
                                        "the invocation has no Lambda-Runtime-Aws-Request-Id"));
  }
  std::int64_t deadline_ms = 0;
  if (!deadline ||
      std::from_chars(deadline->data(), deadline->data() + deadline->size(), deadline_ms).ec !=
          std::errc{}) {
    return tl::unexpected(runtime_error("NextInvocation", answer->status,
                                        "the invocation has no valid Lambda-Runtime-Deadline-Ms"));
  }
  invocation.request_id = std::string(*id);
  invocation.deadline =
      std::chrono::system_clock::time_point(std::chrono::milliseconds(deadline_ms));
  invocation.function_arn =
      std::string(answer->header("Lambda-Runtime-Invoked-Function-Arn").value_or(""));
  invocation.trace_id = std::string(answer->header("Lambda-Runtime-Trace-Id").value_or(""));
  invocation.payload = std::move(answer->body);
  return invocation;
}

Result<void> LambdaRuntimeClient::post(std::string operation, std::string path, std::string body,
                                       const std::string& error_type) {
  HttpRequest http = request(endpoint_, "POST", std::move(path));
  http.headers.push_back({"Content-Type", "application/json"});
  if (!error_type.empty()) {
    http.headers.push_back({"Lambda-Runtime-Function-Error-Type", error_type});
  }
  http.body = std::move(body);
  auto answer = http_->send(std::move(http), RequestOptions{.timeout = std::chrono::seconds(10)});
  if (!answer) {
    AwsError error = std::move(answer.error());
    error.service = "lambda-runtime";
    error.operation = std::move(operation);
    return tl::unexpected(std::move(error));
  }
  if (answer->status < 200 || answer->status >= 300) {
    return tl::unexpected(runtime_error(
        std::move(operation), answer->status,
        "the Runtime API answered " + std::to_string(answer->status) + ": " + answer->body));
  }
  return {};
}

Result<void> LambdaRuntimeClient::respond(const std::string& request_id, std::string body) {
  return post("InvocationResponse",
              std::string(kApi) + "/runtime/invocation/" + request_id + "/response",
              std::move(body), "");
}

Result<void> LambdaRuntimeClient::fail(const std::string& request_id, const FunctionError& error) {
  return post("InvocationError", std::string(kApi) + "/runtime/invocation/" + request_id + "/error",
              function_error_json(error), error.type);
}

Result<void> LambdaRuntimeClient::init_error(const FunctionError& error) {
  return post("InitError", std::string(kApi) + "/runtime/init/error", function_error_json(error),
              error.type);
}

}  // namespace salesflow::aws
