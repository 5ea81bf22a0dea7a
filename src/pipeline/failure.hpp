#pragma once
// Why the pipeline could not do its part for an object, as a value: which
// stage failed, what it was doing, and the AWS error behind it when there was
// one. Callers decide on the AWS error itself (its code, its HTTP status,
// whether it may be retried), never by parsing a text; `to_string()` is for
// people and logs only. Cost: a few strings, built once per failure.

#include <optional>
#include <string>
#include <string_view>

#include "aws/error.hpp"

namespace salesflow::pipeline {

enum class FailureStage {
  source,         // reading the object's bytes
  items,          // writing items to the table
  messages,       // sending envelopes to the DLQ
  offload,        // storing an oversize envelope's text in S3
  ledger,         // claiming, checkpointing, completing or releasing the object in the ledger
  lease,          // another worker took the object over (or it was finished)
  configuration,  // something the object needs is not configured (no offload bucket)
  sink,           // a sink broke its contract (the wrong number of outcomes)
  duplicates,     // the duplicate tracker could not spill to or read its scratch files
};

[[nodiscard]] std::string_view to_string(FailureStage stage);

struct [[nodiscard]] Failure {
  FailureStage stage = FailureStage::source;
  std::string detail;                  // what was being done, in words
  std::optional<aws::AwsError> cause;  // the AWS answer behind it, when there was one

  // "items: 3 of 25 items not written: dynamodb BatchWriteItem ..." (one line).
  [[nodiscard]] std::string to_string() const;
};

[[nodiscard]] Failure failure_from(FailureStage stage, std::string detail, aws::AwsError cause);

}  // namespace salesflow::pipeline
