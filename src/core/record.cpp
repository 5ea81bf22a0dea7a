#include "core/record.hpp"

namespace salesflow::core {

std::string_view to_string(ReasonCode code) {
  switch (code) {
    case ReasonCode::missing:
      return "missing";
    case ReasonCode::wrong_type:
      return "wrong_type";
    case ReasonCode::empty:
      return "empty";
    case ReasonCode::invalid_format:
      return "invalid_format";
    case ReasonCode::malformed_json:
      return "malformed_json";
    case ReasonCode::invalid_number:
      return "invalid_number";
    case ReasonCode::too_large:
      return "too_large";
    case ReasonCode::duplicate_member:
      return "duplicate_member";
    case ReasonCode::duplicate_key:
      return "duplicate_key";
  }
  return "unknown";
}

}  // namespace salesflow::core
