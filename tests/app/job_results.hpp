#pragma once
// Job results for the observer tests of the log and the metrics.

#include <string>

#include "pipeline/ledger.hpp"
#include "pipeline/object_job.hpp"

namespace salesflow::app::test {

inline const pipeline::ObjectVersion kObject{"sales", "in/day.jsonl", "e1", ""};

// An object settled with `outcome` for `reason`, nothing read.
inline pipeline::JobResult settled(pipeline::JobOutcome outcome, std::string reason) {
  pipeline::JobResult result;
  result.outcome = outcome;
  result.reason = std::move(reason);
  return result;
}

}  // namespace salesflow::app::test
