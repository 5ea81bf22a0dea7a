#pragma once
// The credential sources of the standard AWS provider chain, each usable alone.
// Sources that hand out temporary credentials cache them and fetch new ones
// `refresh_before` their expiration.

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "aws/config_env.hpp"
#include "aws/credentials.hpp"

namespace salesflow::aws {

using Clock = std::function<std::chrono::system_clock::time_point()>;

// Told, on the refresher's thread, when fetching temporary credentials ahead
// of their expiry failed: the error, and how long the cached ones stay valid
// (requests keep signing with them; another try follows in 10 s). Must not block.
using RefreshFailureFn = std::function<void(const AwsError& error, std::chrono::seconds valid_for)>;

struct ProviderOptions {
  Clock clock = [] { return std::chrono::system_clock::now(); };
  std::chrono::seconds refresh_before{300};
  // IMDS and the container endpoint are local: a short timeout keeps a
  // process off EC2/ECS from hanging on them.
  std::chrono::milliseconds metadata_timeout{1000};
  std::chrono::milliseconds sts_timeout{5000};
  std::string sts_region = "us-east-1";  // when the environment names none
  std::string ca_bundle;  // for STS and the container endpoint; empty: the system store
  RefreshFailureFn on_refresh_failure;  // none: nobody is told
};

// AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN.
std::shared_ptr<CredentialsProvider> make_environment_credentials(EnvLookup env);

// aws_access_key_id / aws_secret_access_key / aws_session_token of `profile`
// (empty: AWS_PROFILE or "default") in the shared config and credentials files.
std::shared_ptr<CredentialsProvider> make_profile_credentials(EnvLookup env,
                                                              std::string profile = "");

// STS AssumeRoleWithWebIdentity with AWS_WEB_IDENTITY_TOKEN_FILE, AWS_ROLE_ARN
// and AWS_ROLE_SESSION_NAME, at AWS_ENDPOINT_URL_STS or sts.REGION.amazonaws.com.
std::shared_ptr<CredentialsProvider> make_web_identity_credentials(EnvLookup env,
                                                                   ProviderOptions options = {});

// The ECS/EKS container endpoint: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI (on
// http://169.254.170.2) or AWS_CONTAINER_CREDENTIALS_FULL_URI, authorised by
// AWS_CONTAINER_AUTHORIZATION_TOKEN or AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE.
std::shared_ptr<CredentialsProvider> make_container_credentials(EnvLookup env,
                                                                ProviderOptions options = {});

// EC2 instance metadata (IMDSv2 token flow) at AWS_EC2_METADATA_SERVICE_ENDPOINT
// or http://169.254.169.254; off when AWS_EC2_METADATA_DISABLED=true.
std::shared_ptr<CredentialsProvider> make_imds_credentials(EnvLookup env,
                                                           ProviderOptions options = {});

struct NamedProvider {
  std::string name;  // "environment", "profile default", ... (named in errors)
  std::shared_ptr<CredentialsProvider> provider;
};

// Tries the providers in order; the first that answers is used from then on.
// When none does: AwsError{service "credentials", code "NoCredentials"}
// naming every source tried and why it gave nothing.
std::shared_ptr<CredentialsProvider> make_provider_chain(std::vector<NamedProvider> providers);

// The SDKs' default chain: environment, shared files (profile), web identity,
// container endpoint, EC2 IMDS.
std::shared_ptr<CredentialsProvider> make_default_credentials_chain(EnvLookup env,
                                                                    std::string profile = "",
                                                                    ProviderOptions options = {});

// Wraps a fetch of temporary credentials: caches them, fetches again when they
// are within `refresh_before` of expiring, and keeps serving still-valid ones
// if a refresh fails (telling `on_failure`). Thread-safe.
[[nodiscard]] std::shared_ptr<CredentialsProvider> make_refreshing_credentials(
    std::function<Result<Credentials>()> fetch, Clock clock, std::chrono::seconds refresh_before,
    RefreshFailureFn on_failure = {});

// ISO 8601 UTC ("2024-03-01T12:00:00Z", fractional seconds allowed).
[[nodiscard]] std::optional<std::chrono::system_clock::time_point> parse_iso8601(
    std::string_view text);

}  // namespace salesflow::aws
