#pragma once
// Region, endpoints and profile of the AWS services salesflow talks to,
// resolved from an environment (and the shared profile files) as a value.

#include <memory>
#include <optional>
#include <string>

#include "aws/config_env.hpp"
#include "aws/credentials.hpp"
#include "aws/credentials_providers.hpp"
#include "aws/endpoint.hpp"
#include "aws/error.hpp"

namespace salesflow::aws {

// Explicit settings (command-line flags) that beat the environment.
struct ConfigOverrides {
  std::optional<std::string> region;
  std::optional<std::string> profile;
  std::optional<std::string> endpoint_url;  // every service
  std::optional<std::string> s3_endpoint_url;
  std::optional<std::string> dynamodb_endpoint_url;
  std::optional<std::string> sqs_endpoint_url;
  std::optional<std::string> sts_endpoint_url;
  std::optional<bool> s3_path_style;
};

struct AwsConfig {
  std::string region;
  std::string profile;
  Endpoint s3;
  Endpoint dynamodb;
  Endpoint sqs;
  Endpoint sts;
  bool s3_path_style = false;
  // The PEM file of the CA certificates TLS verifies servers with; empty: the
  // system store (libcurl's compiled-in default).
  std::string ca_bundle;

  // Region: override, AWS_REGION, AWS_DEFAULT_REGION, the profile's `region`
  // (else error "NoRegion"). Endpoint of a service: override, per-service
  // AWS_ENDPOINT_URL_<SERVICE>, AWS_ENDPOINT_URL, the profile's `endpoint_url`
  // (scheme://host[:port] only), else default_endpoint(<service>, REGION). S3 path style: override,
  // the profile's `s3.addressing_style = path`, else whenever the endpoint is custom.
  // CA bundle: AWS_CA_BUNDLE, the profile's `ca_bundle`, else none; a named file
  // must be a readable file holding a PEM certificate (else error "InvalidCaBundle").
  [[nodiscard]] static Result<AwsConfig> load(const EnvLookup& env,
                                              const ConfigOverrides& overrides = {});

  // Bucket names that are no DNS label (dots, uppercase, ...) fall back to path style.
  S3Location s3_location(std::string_view bucket, std::string_view key) const;
};

// The default provider chain for this configuration's profile, with STS in
// its region (AWS_ENDPOINT_URL_STS or the configured STS endpoint).
std::shared_ptr<CredentialsProvider> make_credentials_chain(const AwsConfig& config,
                                                            const EnvLookup& env,
                                                            ProviderOptions options = {});

}  // namespace salesflow::aws
