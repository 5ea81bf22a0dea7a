#include "aws/config.hpp"

#include <cctype>
#include <map>
#include <utility>

#include "aws/config_profile.hpp"
#include "aws/uri.hpp"

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

bool is_dns_compatible_bucket(std::string_view bucket) {
  if (bucket.size() < 3 || bucket.size() > 63) return false;
  for (const char c : bucket) {
    if (!(std::islower(static_cast<unsigned char>(c)) ||
          std::isdigit(static_cast<unsigned char>(c)) || c == '-')) {
      return false;  // dots too: *.s3.amazonaws.com's certificate covers one label only
    }
  }
  return bucket.front() != '-' && bucket.back() != '-';
}

}  // namespace

Result<Endpoint> parse_endpoint_url(std::string_view url) {
  const auto invalid = [&](const char* why) {
    return tl::make_unexpected(
        config_error("InvalidEndpoint", "endpoint URL '" + std::string(url) + "': " + why));
  };
  const auto separator = url.find("://");
  if (separator == std::string_view::npos) return invalid("no scheme");
  Endpoint endpoint;
  endpoint.scheme = std::string(url.substr(0, separator));
  for (char& c : endpoint.scheme)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (endpoint.scheme != "http" && endpoint.scheme != "https") return invalid("not http(s)");
  std::string_view rest = url.substr(separator + 3);
  while (rest.ends_with('/')) rest.remove_suffix(1);
  if (rest.find_first_of("/?#@ ") != std::string_view::npos) {
    return invalid("only scheme://host[:port] is supported");
  }
  if (rest.empty() || rest.front() == ':') return invalid("no host");
  endpoint.host = std::string(rest);
  endpoint.is_custom = true;
  return endpoint;
}

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
    if (url) return parse_endpoint_url(*url);
    return Endpoint{"https", std::string(service) + "." + config.region + ".amazonaws.com", false};
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
  return config;
}

S3Location AwsConfig::s3_location(std::string_view bucket, std::string_view key) const {
  const std::string encoded_key = uri_encode_path(key);
  if (s3_path_style || !is_dns_compatible_bucket(bucket)) {
    return {s3.scheme, s3.host, "/" + uri_encode(bucket) + "/" + encoded_key};
  }
  return {s3.scheme, std::string(bucket) + "." + s3.host, "/" + encoded_key};
}

std::shared_ptr<CredentialsProvider> make_credentials_chain(const AwsConfig& config,
                                                            const EnvLookup& env,
                                                            ProviderOptions options) {
  options.sts_region = config.region;
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
