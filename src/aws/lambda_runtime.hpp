#pragma once
// The AWS Lambda Runtime API (2018-06-01) of a custom runtime: wait for the
// next invocation, answer it, report its error, or report that the function
// could not start. One client per process, talking to $AWS_LAMBDA_RUNTIME_API
// over its own HttpClient, so the long wait for the next event never occupies
// the connection pool of the AWS clients.
//
// Costs: one HTTP round trip per call on loopback. `next` has no timeout: the
// sandbox is frozen between invocations and the call returns when an event
// arrives, however long that takes.

#include <chrono>
#include <memory>
#include <string>

#include "aws/error.hpp"
#include "aws/http_client.hpp"

namespace salesflow::aws {

struct Invocation {
  std::string request_id;                          // Lambda-Runtime-Aws-Request-Id
  std::chrono::system_clock::time_point deadline;  // Lambda-Runtime-Deadline-Ms
  std::string function_arn;                        // Lambda-Runtime-Invoked-Function-Arn
  std::string trace_id;                            // Lambda-Runtime-Trace-Id (may be empty)
  std::string payload;                             // the event, as the invoker sent it

  // Time left until the deadline (negative once it passed).
  [[nodiscard]] std::chrono::milliseconds remaining(
      std::chrono::system_clock::time_point now = std::chrono::system_clock::now()) const {
    return std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now);
  }
};

// What Lambda shows as the invocation's (or the init's) error.
struct FunctionError {
  std::string type;     // errorType, e.g. "Salesflow.ObjectsNotSettled"
  std::string message;  // errorMessage, one line
};

class LambdaRuntimeClient {
 public:
  // `endpoint`: host:port, as in $AWS_LAMBDA_RUNTIME_API.
  explicit LambdaRuntimeClient(std::string endpoint);

  // Blocks until the next invocation. An error when the Runtime API is not
  // there or answers something that is not an invocation (no request id, no
  // deadline): the runtime should then exit, and Lambda starts a new one.
  [[nodiscard]] Result<Invocation> next();
  // The invocation's result (a JSON document).
  [[nodiscard]] Result<void> respond(const std::string& request_id, std::string body);
  // The invocation failed: Lambda retries asynchronous invocations, and an
  // event source mapping makes every message of the batch visible again.
  [[nodiscard]] Result<void> fail(const std::string& request_id, const FunctionError& error);
  // The function cannot start (a bad rules file, a queue that does not exist);
  // the process should exit after it.
  [[nodiscard]] Result<void> init_error(const FunctionError& error);

  const std::string& endpoint() const { return endpoint_; }

 private:
  [[nodiscard]] Result<void> post(std::string operation, std::string path, std::string body,
                                  const std::string& error_type);

  std::string endpoint_;
  std::shared_ptr<HttpClient> http_;
};

// The JSON body of an error report: {"errorMessage":...,"errorType":...}.
[[nodiscard]] std::string function_error_json(const FunctionError& error);

}  // namespace salesflow::aws
