#include "aws/error.hpp"

#include <fmt/format.h>

namespace salesflow::aws {

std::string AwsError::to_string() const {
  std::string line = fmt::format("{} {}: {}", service, operation, code.empty() ? "Error" : code);
  if (http_status != 0) line += fmt::format(" (HTTP {})", http_status);
  if (!message.empty()) line += fmt::format(": {}", message);
  if (!request_id.empty()) line += fmt::format(" [request id {}]", request_id);
  line += fmt::format(" after {} attempt{}{}", attempts, attempts == 1 ? "" : "s",
                      retryable ? ", retryable" : "");
  return line;
}

}  // namespace salesflow::aws
