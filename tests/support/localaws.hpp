#pragma once
// Test helpers for the AWS layer: in-process HTTP servers on 127.0.0.1 and
// access to the local AWS stack the ctest fixture starts (endpoints from the
// environment, fault rules through its admin endpoint).

#include <httplib.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "aws/credentials.hpp"
#include "aws/http_client.hpp"
#include "aws/service.hpp"

namespace salesflow::test {

// A cpp-httplib server on an ephemeral loopback port; register handlers on
// http() before start(). Stops in the destructor.
class FakeServer {
 public:
  FakeServer();
  ~FakeServer();
  FakeServer(const FakeServer&) = delete;
  FakeServer& operator=(const FakeServer&) = delete;

  httplib::Server& http() { return server_; }
  void start();
  int port() const { return port_; }
  std::string host() const;      // "127.0.0.1:PORT"
  std::string endpoint() const;  // "http://127.0.0.1:PORT"

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
};

// A loopback port nothing listens on (bound, then released).
int unused_port();

std::shared_ptr<aws::CredentialsProvider> test_credentials();

// A client of the local stack's service at `endpoint`: test credentials,
// us-east-1, `max_attempts` attempts per call.
aws::ClientConfig local_client_config(std::shared_ptr<aws::HttpClient> http, std::string endpoint,
                                      int max_attempts);

// The local AWS stack of the ctest fixture.
struct LocalAws {
  std::string s3_endpoint;
  std::string sqs_endpoint;
  std::string dynamodb_endpoint;
  std::string admin_endpoint;

  // Seeds the random draws of the fault rules this object adds:
  // $LOCALAWS_FAULT_SEED when set (to replay a failed run), else a fresh one.
  std::uint32_t fault_seed = 0;

  // nullopt when the environment does not name a stack; throws
  // std::invalid_argument when $LOCALAWS_FAULT_SEED is not a seed.
  static std::optional<LocalAws> from_env();

  // Adds the rules of `rules_json` ({"rules":[...]}) with POST /faults, seeded
  // with `fault_seed` (printed to stderr, so a failed run can be replayed), and
  // remembers their ids; empty string on success, else what went wrong. The
  // stack is shared by tests running in parallel, so nothing here replaces or
  // clears others' rules.
  std::string set_faults(std::string_view rules_json);
  // Removes the rules this object added (DELETE /faults/ID each).
  std::string clear_faults();

  std::vector<std::string> fault_ids;
};

// A name no other test run uses: prefix-<pid>-<counter>-<random>.
std::string unique_name(std::string_view prefix);

}  // namespace salesflow::test
