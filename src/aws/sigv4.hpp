#pragma once
// AWS Signature Version 4 (header-signed requests and presigned URLs).

#include <chrono>
#include <string>

#include "aws/credentials.hpp"
#include "aws/http_request.hpp"

namespace salesflow::aws {

struct SigningScope {
  std::string region;   // "us-east-1"
  std::string service;  // signing name: "s3", "dynamodb", "sqs", "sts"
};

struct SigningOptions {
  // S3 signs the payload hash into an x-amz-content-sha256 header and does not
  // normalise the path; the other services do the opposite.
  bool s3 = false;
  bool unsigned_payload = false;  // S3 only: "UNSIGNED-PAYLOAD"
};

// Adds Authorization, X-Amz-Date, X-Amz-Security-Token (when there is a session
// token) and, for S3, x-amz-content-sha256 to `request`. `now` is injectable
// for tests.
void sign_request(HttpRequest& request, const Credentials& credentials, const SigningScope& scope,
                  std::chrono::system_clock::time_point now, const SigningOptions& options = {});

}  // namespace salesflow::aws
