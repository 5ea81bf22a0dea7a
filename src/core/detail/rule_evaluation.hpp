#pragma once
// The rules applied to what the walk of one record observed at the rule
// paths: required members, types, empty strings, patterns, allowed values,
// ranges and at-least-one groups, each problem a reason.

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/detail/reason_list.hpp"
#include "core/detail/rule_paths.hpp"
#include "core/record.hpp"
#include "core/rules.hpp"

namespace salesflow::core {

// `rules` with the field rules of the key attributes' sources tightened (or
// added): present, non-empty and of a type the key attribute can hold.
[[nodiscard]] Rules with_key_rules(Rules rules);

// A value's type as a reason names it: "a string", "an integer", ...
std::string_view describe(JsonType type, bool integer);

// Holds the scratch space of the evaluation (no allocation once grown, except
// for the reasons themselves): one per RecordValidator.
class RuleEvaluation {
 public:
  // Adds a reason for every rule `observations` (indexed by node of `paths`)
  // break; a member of a satisfied at-least-one group is not held to its own rule.
  void evaluate(const Rules& rules, const RulePaths& paths,
                std::span<const Observation> observations, ReasonList& reasons);

 private:
  std::vector<std::vector<Reason>> field_reasons_;  // per Rules::fields
  std::vector<bool> excused_;                       // per Rules::fields
  std::vector<std::string> reported_;
};

}  // namespace salesflow::core
