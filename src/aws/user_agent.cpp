#include "aws/user_agent.hpp"

#include <utility>

namespace salesflow::aws {

namespace {
std::string& value() {
  static std::string agent;
  return agent;
}
}  // namespace

void set_user_agent(std::string agent) {
  value() = std::move(agent);
}

const std::string& user_agent() {
  return value();
}

}  // namespace salesflow::aws
