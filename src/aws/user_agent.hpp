#pragma once
// The User-Agent header of every AWS request salesflow sends: what CloudTrail
// records as the caller's userAgent, and how the local AWS stack's operation
// log tells salesflow's commands apart from other clients. Set once at start,
// before any client exists (it is read without a lock); empty: no header.

#include <string>

namespace salesflow::aws {

void set_user_agent(std::string value);
const std::string& user_agent();

}  // namespace salesflow::aws
