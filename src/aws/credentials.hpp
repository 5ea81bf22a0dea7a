#pragma once
// AWS credentials and the standard provider chain.

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "aws/error.hpp"

namespace salesflow::aws {

struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;  // never logged, never in an error message
  std::string session_token;      // empty for long-term keys
  std::optional<std::chrono::system_clock::time_point> expiration;  // none: never expires
};

// Thread-safe; implementations cache and refresh temporary credentials before
// they expire, so `get()` is cheap on the hot path (a mutex and a copy).
class CredentialsProvider {
 public:
  virtual ~CredentialsProvider() = default;
  [[nodiscard]] virtual Result<Credentials> get() = 0;
};

std::shared_ptr<CredentialsProvider> make_static_credentials(Credentials credentials);

}  // namespace salesflow::aws
