#include "aws/credentials_providers.hpp"

#include <simdjson.h>

#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <optional>
#include <pugixml.hpp>
#include <thread>
#include <utility>

#include "aws/detail/config_profile.hpp"
#include "aws/detail/credentials_http.hpp"
#include "aws/detail/uri.hpp"
#include "base/fatal.hpp"
#include "base/file.hpp"
#include "base/text.hpp"

namespace salesflow::aws {
namespace {

using detail::credentials_http_fetch;
using detail::CredentialsHttpRequest;

AwsError credentials_error(std::string operation, std::string code, std::string message,
                           bool retryable = false) {
  AwsError error;
  error.service = "credentials";
  error.operation = std::move(operation);
  error.code = std::move(code);
  error.message = std::move(message);
  error.retryable = retryable;
  return error;
}

tl::unexpected<AwsError> not_configured(std::string operation, std::string why) {
  return tl::make_unexpected(
      credentials_error(std::move(operation), "NotConfigured", std::move(why)));
}

// {"AccessKeyId", "SecretAccessKey", "Token", "Expiration"}: the answer of
// both the container endpoint and IMDS. Never echoes the body into an error.
Result<Credentials> parse_json_credentials(const std::string& body, const std::string& operation) {
  simdjson::dom::parser parser;
  simdjson::dom::element document;
  if (parser.parse(body).get(document) != simdjson::SUCCESS || !document.is_object()) {
    return tl::make_unexpected(
        credentials_error(operation, "MalformedResponse", "credentials response is not JSON"));
  }
  const auto field = [&](const char* name) -> std::optional<std::string> {
    std::string_view value;
    if (document[name].get_string().get(value) != simdjson::SUCCESS) return std::nullopt;
    return std::string(value);
  };
  if (const auto code = field("Code"); code && *code != "Success") {
    return tl::make_unexpected(credentials_error(operation, *code, "endpoint reported " + *code));
  }
  Credentials credentials;
  const auto key = field("AccessKeyId");
  const auto secret = field("SecretAccessKey");
  if (!key || !secret || key->empty() || secret->empty()) {
    return tl::make_unexpected(credentials_error(
        operation, "MalformedResponse", "credentials response lacks AccessKeyId/SecretAccessKey"));
  }
  credentials.access_key_id = *key;
  credentials.secret_access_key = *secret;
  credentials.session_token = field("Token").value_or("");
  if (const auto expiration = field("Expiration")) {
    credentials.expiration = parse_iso8601(*expiration);
    if (!credentials.expiration) {
      return tl::make_unexpected(
          credentials_error(operation, "MalformedResponse", "unreadable Expiration"));
    }
  }
  return credentials;
}

// ---------------------------------------------------------------------------

class StaticResultProvider final : public CredentialsProvider {
 public:
  explicit StaticResultProvider(std::function<Result<Credentials>()> load)
      : load_(std::move(load)) {}
  Result<Credentials> get() override { return load_(); }

 private:
  const std::function<Result<Credentials>()> load_;
};

// Temporary credentials, refreshed ahead of time by a thread of its own, so
// that no request attempt (retries run on the HTTP I/O thread) waits for STS,
// IMDS or the container endpoint while the cached credentials still work. The
// thread wakes when they come within `refresh_before` of their expiration (or
// when get() sees that moment first, under an injected clock), fetches, and on
// failure tries again after a back-off, serving the old ones meanwhile. Only
// when none are cached or they have expired does get() fetch itself.
class RefreshingProvider final : public CredentialsProvider {
 public:
  RefreshingProvider(std::function<Result<Credentials>()> fetch, Clock clock,
                     std::chrono::seconds refresh_before, RefreshFailureFn on_failure)
      : fetch_(std::move(fetch)),
        clock_(std::move(clock)),
        refresh_before_(refresh_before),
        on_failure_(std::move(on_failure)) {}

  ~RefreshingProvider() override {
    {
      const std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    if (refresher_.joinable()) refresher_.join();
  }
  RefreshingProvider(const RefreshingProvider&) = delete;
  RefreshingProvider& operator=(const RefreshingProvider&) = delete;

  Result<Credentials> get() override {
    std::unique_lock lock(mutex_);
    const auto now = clock_();
    if (cached_ && !expired(*cached_, now)) {
      Credentials valid = *cached_;  // copied under the lock: the refresher replaces it
      if (due(valid, now)) {
        refresh_wanted_ = true;
        lock.unlock();
        wake_.notify_all();
      }
      return valid;
    }
    lock.unlock();
    // Nothing usable: this caller has to wait for a fetch.
    Result<Credentials> fetched = fetch_serialised();
    lock.lock();
    if (fetched) {
      store(*fetched);
      return fetched;
    }
    if (cached_ && !expired(*cached_, clock_())) return *cached_;  // refreshed meanwhile
    return fetched;
  }

 private:
  bool due(const Credentials& credentials, std::chrono::system_clock::time_point now) const {
    return credentials.expiration && *credentials.expiration - refresh_before_ <= now;
  }
  static bool expired(const Credentials& credentials, std::chrono::system_clock::time_point now) {
    return credentials.expiration && *credentials.expiration <= now;
  }

  Result<Credentials> fetch_serialised() {
    const std::lock_guard fetching(fetch_mutex_);
    return fetch_();
  }

  // Under mutex_. Starts the refresher the first time temporary credentials arrive.
  void store(Credentials credentials) {
    const bool temporary = credentials.expiration.has_value();
    cached_ = std::move(credentials);
    refresh_wanted_ = false;
    if (temporary && !refresher_.joinable()) {
      refresher_ = std::thread(
          [this] { base::run_or_die("credentials refresher", [this] { refresh_loop(); }); });
    }
    wake_.notify_all();
  }

  void refresh_loop() {
    std::unique_lock lock(mutex_);
    auto retry_after = std::chrono::seconds(0);
    while (!stopping_) {
      if (retry_after.count() > 0) {
        // After a failed refresh: back off whatever get() asks meanwhile.
        wake_.wait_for(lock, retry_after, [this] { return stopping_; });
      } else {
        const auto until = std::chrono::duration_cast<std::chrono::milliseconds>(
            *cached_->expiration - refresh_before_ - clock_());
        wake_.wait_for(lock, std::min<std::chrono::milliseconds>(until, std::chrono::hours(1)),
                       [this] { return stopping_ || refresh_wanted_ || due(*cached_, clock_()); });
      }
      if (stopping_) return;
      if (retry_after.count() == 0 && !refresh_wanted_ && !due(*cached_, clock_())) continue;
      refresh_wanted_ = false;
      lock.unlock();
      Result<Credentials> fetched = fetch_serialised();
      lock.lock();
      if (fetched) {
        retry_after = std::chrono::seconds(0);
        cached_ = std::move(*fetched);
        refresh_wanted_ = false;           // asked for while the fetch ran: answered by it
        if (!cached_->expiration) return;  // permanent now: nothing more to refresh
      } else {
        // Still serving the old ones; try again soon, well before they expire.
        retry_after = std::chrono::seconds(10);
        if (on_failure_) {
          const auto valid_for =
              std::chrono::duration_cast<std::chrono::seconds>(*cached_->expiration - clock_());
          lock.unlock();
          on_failure_(fetched.error(), std::max(valid_for, std::chrono::seconds(0)));
          lock.lock();
        }
      }
    }
  }

  const std::function<Result<Credentials>()> fetch_;
  const Clock clock_;
  const std::chrono::seconds refresh_before_;
  const RefreshFailureFn on_failure_;
  std::mutex fetch_mutex_;  // one fetch at a time
  std::mutex mutex_;        // guards the members below
  std::condition_variable wake_;
  std::optional<Credentials> cached_;
  bool refresh_wanted_ = false;
  bool stopping_ = false;
  std::thread refresher_;
};

class ChainProvider final : public CredentialsProvider {
 public:
  explicit ChainProvider(std::vector<NamedProvider> providers) : providers_(std::move(providers)) {}

  Result<Credentials> get() override {
    const std::lock_guard lock(mutex_);
    if (chosen_) return chosen_->get();
    std::string tried;
    for (const NamedProvider& candidate : providers_) {
      Result<Credentials> result = candidate.provider->get();
      if (result) {
        chosen_ = candidate.provider;
        return result;
      }
      if (!tried.empty()) tried += "; ";
      tried += candidate.name + ": " + result.error().code + " (" + result.error().message + ")";
    }
    return tl::make_unexpected(credentials_error("ResolveCredentials", "NoCredentials",
                                                 "no credentials found; tried " + tried));
  }

 private:
  const std::vector<NamedProvider> providers_;
  std::mutex mutex_;
  std::shared_ptr<CredentialsProvider> chosen_;
};

// ---------------------------------------------------------------------------

Result<Credentials> fetch_web_identity(const EnvLookup& env, const ProviderOptions& options) {
  const std::string operation = "AssumeRoleWithWebIdentity";
  const auto token_file = env("AWS_WEB_IDENTITY_TOKEN_FILE");
  const auto role_arn = env("AWS_ROLE_ARN");
  if (!token_file || !role_arn) {
    return not_configured(operation, "AWS_WEB_IDENTITY_TOKEN_FILE or AWS_ROLE_ARN not set");
  }
  const auto token = base::read_file(*token_file);
  if (!token || base::trim(*token).empty()) {
    return tl::make_unexpected(credentials_error(
        operation, "InvalidIdentityToken", "cannot read web identity token file " + *token_file));
  }
  const std::string session_name =
      env("AWS_ROLE_SESSION_NAME")
          .value_or("salesflow-" + std::to_string(std::chrono::duration_cast<std::chrono::seconds>(
                                                      options.clock().time_since_epoch())
                                                      .count()));
  const std::string region =
      env("AWS_REGION").value_or(env("AWS_DEFAULT_REGION").value_or(options.sts_region));
  std::string endpoint =
      env("AWS_ENDPOINT_URL_STS")
          .value_or(env("AWS_ENDPOINT_URL").value_or("https://sts." + region + ".amazonaws.com"));
  while (endpoint.ends_with('/')) endpoint.pop_back();

  CredentialsHttpRequest request;
  request.method = "POST";
  request.url = endpoint + "/";
  request.headers = {{"Content-Type", "application/x-www-form-urlencoded"},
                     {"Accept", "application/xml"}};
  request.body =
      "Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn=" + uri_encode(*role_arn) +
      "&RoleSessionName=" + uri_encode(session_name) +
      "&WebIdentityToken=" + uri_encode(base::trim(*token));
  request.total_timeout = options.sts_timeout;
  request.connect_timeout = std::min(options.sts_timeout, std::chrono::milliseconds(3000));
  request.ca_bundle = options.ca_bundle;
  auto response = credentials_http_fetch(request, "sts");
  if (!response) {
    AwsError error = response.error();
    error.service = "credentials";
    error.operation = operation;
    return tl::make_unexpected(std::move(error));
  }

  pugi::xml_document xml;
  const bool parsed = xml.load_buffer(response->body.data(), response->body.size());
  if (response->status != 200) {
    const pugi::xml_node error_node = xml.select_node("//*[local-name()='Error']").node();
    AwsError error =
        credentials_error(operation, parsed ? error_node.child_value("Code") : "",
                          parsed ? error_node.child_value("Message") : "", response->status >= 500);
    if (error.code.empty()) error.code = "HttpError";
    error.message = "STS answered HTTP " + std::to_string(response->status) +
                    (error.message.empty() ? "" : ": " + error.message);
    error.http_status = static_cast<int>(response->status);
    return tl::make_unexpected(std::move(error));
  }
  const pugi::xml_node node =
      parsed ? xml.select_node("//*[local-name()='Credentials']").node() : pugi::xml_node();
  Credentials credentials;
  credentials.access_key_id = node.child_value("AccessKeyId");
  credentials.secret_access_key = node.child_value("SecretAccessKey");
  credentials.session_token = node.child_value("SessionToken");
  credentials.expiration = parse_iso8601(node.child_value("Expiration"));
  if (credentials.access_key_id.empty() || credentials.secret_access_key.empty() ||
      !credentials.expiration) {
    return tl::make_unexpected(
        credentials_error(operation, "MalformedResponse", "STS response lacks credentials"));
  }
  return credentials;
}

bool is_allowed_container_host(std::string_view url) {
  if (url.starts_with("https://")) return true;
  if (!url.starts_with("http://")) return false;
  std::string_view rest = url.substr(7);
  rest = rest.substr(0, rest.find_first_of("/?#"));
  if (rest.starts_with('[')) return rest.starts_with("[::1]");
  rest = rest.substr(0, rest.find(':'));
  return rest == "localhost" || rest.starts_with("127.") || rest == "169.254.170.2" ||
         rest == "169.254.170.23";
}

Result<Credentials> fetch_container(const EnvLookup& env, const ProviderOptions& options) {
  const std::string operation = "ContainerCredentials";
  std::string url;
  if (const auto relative = env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")) {
    url = "http://169.254.170.2" + *relative;
  } else if (const auto full = env("AWS_CONTAINER_CREDENTIALS_FULL_URI")) {
    if (!is_allowed_container_host(*full)) {
      return tl::make_unexpected(credentials_error(
          operation, "InvalidEndpoint",
          "AWS_CONTAINER_CREDENTIALS_FULL_URI must be https or a loopback/ECS/EKS address"));
    }
    url = *full;
  } else {
    return not_configured(operation,
                          "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI and _FULL_URI not set");
  }
  CredentialsHttpRequest request;
  request.url = url;
  request.bypass_proxy = true;
  request.connect_timeout = options.metadata_timeout;
  request.total_timeout = options.metadata_timeout * 2;
  request.ca_bundle = options.ca_bundle;
  std::optional<std::string> authorization;
  if (const auto file = env("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE")) {
    authorization = base::read_file(*file);
    if (!authorization) {
      return tl::make_unexpected(
          credentials_error(operation, "InvalidToken",
                            "cannot read AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE " + *file));
    }
    authorization = std::string(base::trim(*authorization));
  } else {
    authorization = env("AWS_CONTAINER_AUTHORIZATION_TOKEN");
  }
  if (authorization) request.headers.push_back({"Authorization", *authorization});
  auto response = credentials_http_fetch(request, "credentials");
  if (!response) {
    AwsError error = response.error();
    error.operation = operation;
    return tl::make_unexpected(std::move(error));
  }
  if (response->status != 200) {
    AwsError error = credentials_error(
        operation, "HttpError",
        "container endpoint " + url + " answered HTTP " + std::to_string(response->status),
        response->status >= 500);
    error.http_status = static_cast<int>(response->status);
    return tl::make_unexpected(std::move(error));
  }
  return parse_json_credentials(response->body, operation);
}

Result<Credentials> fetch_imds(const EnvLookup& env, const ProviderOptions& options) {
  const std::string operation = "InstanceMetadataCredentials";
  if (const auto disabled = env("AWS_EC2_METADATA_DISABLED");
      disabled && (*disabled == "true" || *disabled == "TRUE" || *disabled == "True")) {
    return not_configured(operation, "AWS_EC2_METADATA_DISABLED=true");
  }
  std::string endpoint =
      env("AWS_EC2_METADATA_SERVICE_ENDPOINT").value_or("http://169.254.169.254");
  while (endpoint.ends_with('/')) endpoint.pop_back();
  const auto fetch = [&](std::string method, const std::string& path, std::vector<Header> headers) {
    CredentialsHttpRequest request;
    request.method = std::move(method);
    request.url = endpoint + path;
    request.headers = std::move(headers);
    request.bypass_proxy = true;
    request.connect_timeout = options.metadata_timeout;
    request.total_timeout = options.metadata_timeout;
    return credentials_http_fetch(request, "credentials");
  };
  const auto http_error = [&](const std::string& path, long status) {
    AwsError error = credentials_error(operation, "HttpError",
                                       "IMDS " + path + " answered HTTP " + std::to_string(status),
                                       status >= 500);
    error.http_status = static_cast<int>(status);
    return tl::make_unexpected(std::move(error));
  };
  const auto transport_error = [&](AwsError error) {
    error.operation = operation;
    return tl::make_unexpected(std::move(error));
  };

  auto token =
      fetch("PUT", "/latest/api/token", {{"X-aws-ec2-metadata-token-ttl-seconds", "21600"}});
  if (!token) return transport_error(token.error());
  std::vector<Header> auth;
  if (token->status == 200) {
    auth.push_back({"X-aws-ec2-metadata-token", std::string(base::trim(token->body))});
  } else if (token->status != 404 && token->status != 405) {
    // 404/405: an IMDSv1-only endpoint, asked without a token below.
    return http_error("/latest/api/token", token->status);
  }
  const std::string roles_path = "/latest/meta-data/iam/security-credentials/";
  auto roles = fetch("GET", roles_path, auth);
  if (!roles) return transport_error(roles.error());
  if (roles->status != 200) return http_error(roles_path, roles->status);
  const std::string role(
      base::trim(std::string_view(roles->body).substr(0, roles->body.find('\n'))));
  if (role.empty()) {
    return tl::make_unexpected(
        credentials_error(operation, "NoRole", "the instance has no IAM role attached"));
  }
  auto credentials = fetch("GET", roles_path + uri_encode(role), auth);
  if (!credentials) return transport_error(credentials.error());
  if (credentials->status != 200) return http_error(roles_path + role, credentials->status);
  return parse_json_credentials(credentials->body, operation);
}

}  // namespace

std::optional<std::chrono::system_clock::time_point> parse_iso8601(std::string_view text) {
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0, consumed = 0;
  const std::string copy(text);
  if (std::sscanf(copy.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &year, &month, &day, &hour, &minute,
                  &second, &consumed) != 6) {
    return std::nullopt;
  }
  std::string_view rest = text.substr(static_cast<std::size_t>(consumed));
  if (rest.starts_with('.')) {
    rest.remove_prefix(1);
    while (!rest.empty() && rest.front() >= '0' && rest.front() <= '9') rest.remove_prefix(1);
  }
  if (rest != "Z" && rest != "+00:00") return std::nullopt;
  const std::chrono::year_month_day date{std::chrono::year(year), std::chrono::month(month),
                                         std::chrono::day(day)};
  if (!date.ok() || hour > 23 || minute > 59 || second > 60) return std::nullopt;
  return std::chrono::sys_days(date) + std::chrono::hours(hour) + std::chrono::minutes(minute) +
         std::chrono::seconds(second);
}

std::shared_ptr<CredentialsProvider> make_environment_credentials(EnvLookup env) {
  return std::make_shared<StaticResultProvider>([env = std::move(env)]() -> Result<Credentials> {
    const auto key = env("AWS_ACCESS_KEY_ID");
    const auto secret = env("AWS_SECRET_ACCESS_KEY");
    if (!key && !secret) {
      return not_configured("EnvironmentCredentials", "AWS_ACCESS_KEY_ID not set");
    }
    if (!key || !secret) {
      return tl::make_unexpected(
          credentials_error("EnvironmentCredentials", "IncompleteCredentials",
                            key ? "AWS_SECRET_ACCESS_KEY not set" : "AWS_ACCESS_KEY_ID not set"));
    }
    return Credentials{*key, *secret, env("AWS_SESSION_TOKEN").value_or(""), std::nullopt};
  });
}

std::shared_ptr<CredentialsProvider> make_profile_credentials(EnvLookup env, std::string profile) {
  return std::make_shared<StaticResultProvider>(
      [env = std::move(env), profile = std::move(profile)]() -> Result<Credentials> {
        const std::string name = profile.empty() ? selected_profile_name(env) : profile;
        const std::string operation = "ProfileCredentials";
        const ProfileFiles files = load_profile_files(env);
        const auto found = files.profiles.find(name);
        if (found == files.profiles.end()) {
          return not_configured(operation, "profile '" + name + "' not in " + files.config_path +
                                               " or " + files.credentials_path);
        }
        const Profile& keys = found->second;
        const auto value = [&](const char* key) -> std::string {
          const auto it = keys.find(key);
          return it == keys.end() ? std::string() : it->second;
        };
        Credentials credentials{value("aws_access_key_id"), value("aws_secret_access_key"),
                                value("aws_session_token"), std::nullopt};
        if (credentials.access_key_id.empty() && credentials.secret_access_key.empty()) {
          return not_configured(operation, "profile '" + name + "' has no aws_access_key_id");
        }
        if (credentials.access_key_id.empty() || credentials.secret_access_key.empty()) {
          return tl::make_unexpected(credentials_error(operation, "IncompleteCredentials",
                                                       "profile '" + name +
                                                           "' lacks aws_access_key_id or "
                                                           "aws_secret_access_key"));
        }
        return credentials;
      });
}

std::shared_ptr<CredentialsProvider> make_refreshing_credentials(
    std::function<Result<Credentials>()> fetch, Clock clock, std::chrono::seconds refresh_before,
    RefreshFailureFn on_failure) {
  return std::make_shared<RefreshingProvider>(std::move(fetch), std::move(clock), refresh_before,
                                              std::move(on_failure));
}

namespace {
// A provider that calls `fetch` again shortly before what it returned expires.
std::shared_ptr<CredentialsProvider> refreshing_from(
    Result<Credentials> (*fetch)(const EnvLookup&, const ProviderOptions&), EnvLookup env,
    ProviderOptions options) {
  const Clock clock = options.clock;
  const auto refresh_before = options.refresh_before;
  RefreshFailureFn on_failure = options.on_refresh_failure;
  return make_refreshing_credentials(
      [fetch, env = std::move(env), options = std::move(options)] { return fetch(env, options); },
      clock, refresh_before, std::move(on_failure));
}
}  // namespace

std::shared_ptr<CredentialsProvider> make_web_identity_credentials(EnvLookup env,
                                                                   ProviderOptions options) {
  return refreshing_from(fetch_web_identity, std::move(env), std::move(options));
}

std::shared_ptr<CredentialsProvider> make_container_credentials(EnvLookup env,
                                                                ProviderOptions options) {
  return refreshing_from(fetch_container, std::move(env), std::move(options));
}

std::shared_ptr<CredentialsProvider> make_imds_credentials(EnvLookup env, ProviderOptions options) {
  return refreshing_from(fetch_imds, std::move(env), std::move(options));
}

std::shared_ptr<CredentialsProvider> make_provider_chain(std::vector<NamedProvider> providers) {
  return std::make_shared<ChainProvider>(std::move(providers));
}

std::shared_ptr<CredentialsProvider> make_default_credentials_chain(EnvLookup env,
                                                                    std::string profile,
                                                                    ProviderOptions options) {
  const std::string profile_name = profile.empty() ? selected_profile_name(env) : profile;
  return make_provider_chain({
      {"environment", make_environment_credentials(env)},
      {"profile " + profile_name, make_profile_credentials(env, profile_name)},
      {"web identity", make_web_identity_credentials(env, options)},
      {"container", make_container_credentials(env, options)},
      {"EC2 instance metadata", make_imds_credentials(env, options)},
  });
}

}  // namespace salesflow::aws
