#include "aws/config.hpp"

#include <cctype>
#include <cerrno>
#include <cstring>
#include <map>
#include <utility>

#include "aws/detail/config_profile.hpp"
#include "base/file.hpp"

namespace salesflow::aws {
namespace {

AwsError config_error(std::string code, std::string message) {
  AwsError error;
  error.service = "config";
  error.operation = "LoadConfig";
  error.code = std::move(code);
  error.message = std::move(message);
  return error;
}

// A CA bundle named by the configuration is checked when it is loaded: a
// missing or unreadable file is a clear error at start, not a TLS failure at
// the first request.
tl::expected<void, AwsError> check_ca_bundle(const std::string& path, const std::string& source) {
  const std::optional<std::string> text = base::read_file(path);
  if (!text) {
    const int error = errno;
    return tl::make_unexpected(config_error(
        "InvalidCaBundle",
        "CA bundle '" + path + "' (" + source + "): cannot read it: " + std::strerror(error)));
  }
  if (text->find("-----BEGIN CERTIFICATE-----") == std::string::npos) {
    return tl::make_unexpected(config_error(
        "InvalidCaBundle", "CA bundle '" + path + "' (" + source + "): holds no PEM certificate"));
  }
  return {};
}

}  // namespace

Result<AwsConfig> AwsConfig::load(const EnvLookup& env, const ConfigOverrides& overrides) {
  AwsConfig config;
  config.profile = overrides.profile.value_or(selected_profile_name(env));
  const ProfileFiles files = load_profile_files(env);
  const auto profile_it = files.profiles.find(config.profile);
  const auto profile_value = [&](const char* key) -> std::optional<std::string> {
    if (profile_it == files.profiles.end()) return std::nullopt;
    const auto it = profile_it->second.find(key);
    if (it == profile_it->second.end() || it->second.empty()) return std::nullopt;
    return it->second;
  };

  if (overrides.region) {
    config.region = *overrides.region;
  } else if (auto region = env("AWS_REGION")) {
    config.region = *region;
  } else if (auto default_region = env("AWS_DEFAULT_REGION")) {
    config.region = *default_region;
  } else if (auto profile_region = profile_value("region")) {
    config.region = *profile_region;
  } else {
    return tl::make_unexpected(config_error(
        "NoRegion", "no region: set AWS_REGION or AWS_DEFAULT_REGION, or `region` in profile '" +
                        config.profile + "'"));
  }

  const auto resolve = [&](const std::optional<std::string>& service_override, const char* variable,
                           const char* service) -> Result<Endpoint> {
    std::optional<std::string> url = service_override;
    if (!url) url = overrides.endpoint_url;
    if (!url) url = env(variable);
    if (!url) url = env("AWS_ENDPOINT_URL");
    if (!url) url = profile_value("endpoint_url");
    if (!url) return default_endpoint(service, config.region);
    auto endpoint = parse_endpoint_url(*url);
    // The configuration names hosts: S3 addressing and the STS URL handed on
    // to the credential providers have no room for a base path.
    if (endpoint && !endpoint->base_path.empty()) {
      return tl::make_unexpected(
          config_error("InvalidEndpoint",
                       "endpoint URL '" + *url + "': only scheme://host[:port] is supported"));
    }
    return endpoint;
  };
  auto s3 = resolve(overrides.s3_endpoint_url, "AWS_ENDPOINT_URL_S3", "s3");
  auto dynamodb = resolve(overrides.dynamodb_endpoint_url, "AWS_ENDPOINT_URL_DYNAMODB", "dynamodb");
  auto sqs = resolve(overrides.sqs_endpoint_url, "AWS_ENDPOINT_URL_SQS", "sqs");
  auto sts = resolve(overrides.sts_endpoint_url, "AWS_ENDPOINT_URL_STS", "sts");
  for (const auto* endpoint : {&s3, &dynamodb, &sqs, &sts}) {
    if (!*endpoint) return tl::make_unexpected(endpoint->error());
  }
  config.s3 = *s3;
  config.dynamodb = *dynamodb;
  config.sqs = *sqs;
  config.sts = *sts;

  if (overrides.s3_path_style) {
    config.s3_path_style = *overrides.s3_path_style;
  } else if (auto style = profile_value("s3.addressing_style")) {
    config.s3_path_style = *style == "path" || (*style != "virtual" && config.s3.is_custom);
  } else {
    config.s3_path_style = config.s3.is_custom;
  }

  std::string ca_source;
  if (auto variable = env("AWS_CA_BUNDLE")) {
    config.ca_bundle = *variable;
    ca_source = "AWS_CA_BUNDLE";
  } else if (auto profile_ca = profile_value("ca_bundle")) {
    config.ca_bundle = *profile_ca;
    ca_source = "ca_bundle of profile '" + config.profile + "'";
  }
  if (!config.ca_bundle.empty()) {
    if (auto checked = check_ca_bundle(config.ca_bundle, ca_source); !checked) {
      return tl::make_unexpected(checked.error());
    }
  }
  return config;
}

S3Location AwsConfig::s3_location(std::string_view bucket, std::string_view key) const {
  return aws::s3_location(s3, s3_path_style, bucket, key);
}

std::shared_ptr<CredentialsProvider> make_credentials_chain(const AwsConfig& config,
                                                            const EnvLookup& env,
                                                            ProviderOptions options) {
  options.sts_region = config.region;
  options.ca_bundle = config.ca_bundle;
  // The web identity provider reads AWS_ENDPOINT_URL_STS itself; a configured
  // STS endpoint (override or profile) is passed the same way.
  const std::string sts_url = config.sts.url();
  const bool custom_sts = config.sts.is_custom;
  const std::string region = config.region;
  EnvLookup scoped = [env, sts_url, custom_sts,
                      region](std::string_view name) -> std::optional<std::string> {
    if (name == "AWS_ENDPOINT_URL_STS" && custom_sts) return sts_url;
    if (name == "AWS_REGION") return region;
    return env(name);
  };
  return make_default_credentials_chain(std::move(scoped), config.profile, std::move(options));
}

}  // namespace salesflow::aws
