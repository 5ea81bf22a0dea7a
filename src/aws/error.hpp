#pragma once
// The one error type every AWS operation returns.

#include <string>
#include <tl/expected.hpp>

namespace salesflow::aws {

struct AwsError {
  std::string service;    // "s3", "dynamodb", "sqs", "sts", "credentials", ...
  std::string operation;  // "GetObject", "BatchWriteItem", ...
  int http_status = 0;    // 0 when no HTTP response arrived (connect failure, timeout)
  std::string code;       // AWS error code ("ThrottlingException") or a transport code ("Timeout")
  std::string message;    // never contains secrets
  std::string request_id;
  bool retryable = false;
  int attempts = 1;

  std::string to_string() const;  // one line for logs
};

template <class T>
using Result = tl::expected<T, AwsError>;

// What an idempotent create found: created now, or there already (owned by
// this account). Anything else is an AwsError.
enum class Creation { created, already_existed };

}  // namespace salesflow::aws
