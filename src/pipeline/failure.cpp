#include "pipeline/failure.hpp"

namespace salesflow::pipeline {

std::string_view to_string(FailureStage stage) {
  switch (stage) {
    case FailureStage::source:
      return "source";
    case FailureStage::items:
      return "items";
    case FailureStage::messages:
      return "messages";
    case FailureStage::offload:
      return "offload";
    case FailureStage::ledger:
      return "ledger";
    case FailureStage::lease:
      return "lease";
    case FailureStage::configuration:
      return "configuration";
    case FailureStage::sink:
      return "sink";
    case FailureStage::duplicates:
      return "duplicates";
  }
  return "unknown";
}

std::string Failure::to_string() const {
  std::string text(pipeline::to_string(stage));
  text += ": ";
  text += detail;
  if (cause) {
    text += ": ";
    text += cause->to_string();
  }
  return text;
}

Failure failure_from(FailureStage stage, std::string detail, aws::AwsError cause) {
  return Failure{stage, std::move(detail), std::move(cause)};
}

}  // namespace salesflow::pipeline
