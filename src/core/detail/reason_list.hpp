#pragma once
// The reasons of one record, up to Rules::max_reasons; the ones past the
// limit are counted and summed up in one last reason.

#include <fmt/format.h>

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "core/record.hpp"

namespace salesflow::core {

class ReasonList {
 public:
  // Writes into `reasons` (a Verdict's, which must outlive this list).
  ReasonList(std::vector<Reason>& reasons, std::size_t limit) : reasons_(reasons), limit_(limit) {}

  void clear() {
    reasons_.clear();
    dropped_ = 0;
  }
  bool empty() const { return reasons_.empty(); }

  void add(ReasonCode code, std::string path, std::string message) {
    if (reasons_.size() >= limit_) {
      ++dropped_;
      last_dropped_ = code;
      return;
    }
    reasons_.push_back(Reason{code, std::move(path), std::move(message)});
  }

  // Once the record is checked: the reason saying how many were left out
  // (with the code of the last of them), if any were.
  void close() {
    if (dropped_ > 0)
      reasons_.push_back(
          Reason{last_dropped_, "", fmt::format("{} more reasons not listed", dropped_)});
  }

 private:
  std::vector<Reason>& reasons_;
  std::size_t limit_;
  std::size_t dropped_ = 0;
  ReasonCode last_dropped_ = ReasonCode::malformed_json;
};

}  // namespace salesflow::core
