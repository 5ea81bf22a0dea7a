#include "aws/credentials.hpp"

namespace salesflow::aws {
namespace {

class StaticCredentialsProvider final : public CredentialsProvider {
 public:
  explicit StaticCredentialsProvider(Credentials credentials)
      : credentials_(std::move(credentials)) {}
  Result<Credentials> get() override { return credentials_; }

 private:
  const Credentials credentials_;
};

}  // namespace

std::shared_ptr<CredentialsProvider> make_static_credentials(Credentials credentials) {
  return std::make_shared<StaticCredentialsProvider>(std::move(credentials));
}

}  // namespace salesflow::aws
