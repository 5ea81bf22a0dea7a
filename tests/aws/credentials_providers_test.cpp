// The credential providers against real files and in-process HTTP endpoints
// (cpp-httplib on 127.0.0.1, random ports): container, IMDSv2 and STS.

#include "aws/credentials_providers.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <string>
#include <thread>

namespace salesflow::aws {
namespace {

using namespace std::chrono_literals;
using Env = std::map<std::string, std::string, std::less<>>;

constexpr const char* kSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY-secret";
constexpr const char* kToken = "IQoJb3JpZ2luX2VjEXAMPLE-session-token";
constexpr const char* kExpiration = "2030-01-01T00:00:00Z";

class FakeEndpoint {
 public:
  FakeEndpoint() {
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~FakeEndpoint() {
    server_.stop();
    thread_.join();
  }
  httplib::Server& server() { return server_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
};

std::string json_credentials(const std::string& key = "ASIAFAKE") {
  return std::string(R"({"Code":"Success","AccessKeyId":")") + key + R"(","SecretAccessKey":")" +
         kSecret + R"(","Token":")" + kToken + R"(","Expiration":")" + kExpiration + R"("})";
}

class TempDir {
 public:
  TempDir() {
    path_ =
        std::filesystem::temp_directory_path() /
        ("salesflow-credentials-" + std::to_string(::getpid()) + "-" + std::to_string(counter_++));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string write(const std::string& name, const std::string& content) const {
    const auto file = path_ / name;
    std::ofstream(file) << content;
    return file.string();
  }
  std::string path(const std::string& name) const { return (path_ / name).string(); }

 private:
  static inline std::atomic<int> counter_{0};
  std::filesystem::path path_;
};

void expect_no_secret(const AwsError& error) {
  for (const std::string& text : {error.message, error.code, error.operation}) {
    EXPECT_EQ(text.find(kSecret), std::string::npos) << text;
    EXPECT_EQ(text.find(kToken), std::string::npos) << text;
    EXPECT_EQ(text.find("web-identity-jwt"), std::string::npos) << text;
  }
}

// --- environment and profiles -------------------------------------------------

TEST(EnvironmentCredentials, ReadsKeysAndSessionToken) {
  const auto provider =
      make_environment_credentials(environment_from_map({{"AWS_ACCESS_KEY_ID", "AKID"},
                                                         {"AWS_SECRET_ACCESS_KEY", kSecret},
                                                         {"AWS_SESSION_TOKEN", kToken}}));
  const auto credentials = provider->get();
  ASSERT_TRUE(credentials);
  EXPECT_EQ(credentials->access_key_id, "AKID");
  EXPECT_EQ(credentials->secret_access_key, kSecret);
  EXPECT_EQ(credentials->session_token, kToken);
  EXPECT_FALSE(credentials->expiration);
}

TEST(EnvironmentCredentials, MissingOrHalfSetIsAnErrorWithoutTheSecret) {
  EXPECT_EQ(make_environment_credentials(environment_from_map({}))->get().error().code,
            "NotConfigured");
  const auto half =
      make_environment_credentials(environment_from_map({{"AWS_SECRET_ACCESS_KEY", kSecret}}))
          ->get();
  ASSERT_FALSE(half);
  EXPECT_EQ(half.error().code, "IncompleteCredentials");
  expect_no_secret(half.error());
}

TEST(ProfileCredentials, ReadsNamedProfilesFromBothFilesWithCommentsAndWhitespace) {
  const TempDir dir;
  const std::string config = dir.write("config",
                                       "# comment\n"
                                       "[default]\nregion = eu-west-1\n"
                                       "[profile dev]  ; trailing comment\n"
                                       "  aws_access_key_id = CONFIGKEY  \n"
                                       "aws_secret_access_key=config-secret # inline comment\n"
                                       "[dev]\naws_access_key_id = IGNORED_NOT_A_CONFIG_SECTION\n");
  const std::string credentials = dir.write("credentials",
                                            "; comment\n"
                                            "[default]\n"
                                            "aws_access_key_id = DEFAULTKEY\n"
                                            "aws_secret_access_key = default-secret\n"
                                            "\n[prod]\n\taws_access_key_id\t=\tPRODKEY\n"
                                            "aws_secret_access_key = prod-secret\n"
                                            "aws_session_token = prod-token\n");
  Env env{{"AWS_CONFIG_FILE", config}, {"AWS_SHARED_CREDENTIALS_FILE", credentials}};
  auto get = [&](Env variables, std::string profile = "") {
    return make_profile_credentials(environment_from_map(std::move(variables)), profile)->get();
  };
  EXPECT_EQ(get(env)->access_key_id, "DEFAULTKEY");
  EXPECT_EQ(get(env, "dev")->access_key_id, "CONFIGKEY");
  EXPECT_EQ(get(env, "dev")->secret_access_key, "config-secret");
  Env with_profile = env;
  with_profile["AWS_PROFILE"] = "prod";
  EXPECT_EQ(get(with_profile)->access_key_id, "PRODKEY");
  EXPECT_EQ(get(with_profile)->session_token, "prod-token");
  EXPECT_EQ(get(env, "missing").error().code, "NotConfigured");
}

TEST(ProfileCredentials, CredentialsFileWinsOverConfigFile) {
  const TempDir dir;
  Env env{{"AWS_CONFIG_FILE", dir.write("config",
                                        "[profile p]\naws_access_key_id = A\n"
                                        "aws_secret_access_key = a\n")},
          {"AWS_SHARED_CREDENTIALS_FILE",
           dir.write("credentials", "[p]\naws_access_key_id = B\naws_secret_access_key = b\n")}};
  EXPECT_EQ(make_profile_credentials(environment_from_map(env), "p")->get()->access_key_id, "B");
}

// --- the chain ---------------------------------------------------------------

TEST(CredentialsChain, EnvironmentComesBeforeProfiles) {
  const TempDir dir;
  Env env{{"AWS_SHARED_CREDENTIALS_FILE", dir.write("credentials",
                                                    "[default]\naws_access_key_id = FILEKEY\n"
                                                    "aws_secret_access_key = file-secret\n")},
          {"AWS_CONFIG_FILE", dir.path("none")},
          {"AWS_EC2_METADATA_DISABLED", "true"}};
  EXPECT_EQ(make_default_credentials_chain(environment_from_map(env))->get()->access_key_id,
            "FILEKEY");
  env["AWS_ACCESS_KEY_ID"] = "ENVKEY";
  env["AWS_SECRET_ACCESS_KEY"] = "env-secret";
  EXPECT_EQ(make_default_credentials_chain(environment_from_map(env))->get()->access_key_id,
            "ENVKEY");
}

TEST(CredentialsChain, NoSourceGivesNoCredentialsNamingEverySourceTried) {
  const TempDir dir;
  const auto result = make_default_credentials_chain(
                          environment_from_map({{"AWS_CONFIG_FILE", dir.path("none")},
                                                {"AWS_SHARED_CREDENTIALS_FILE", dir.path("none")},
                                                {"AWS_EC2_METADATA_DISABLED", "true"}}))
                          ->get();
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().service, "credentials");
  EXPECT_EQ(result.error().code, "NoCredentials");
  for (const char* source :
       {"environment", "profile default", "web identity", "container", "EC2 instance metadata"}) {
    EXPECT_NE(result.error().message.find(source), std::string::npos) << result.error().message;
  }
}

TEST(CredentialsChain, FallsThroughToTheContainerEndpoint) {
  FakeEndpoint endpoint;
  endpoint.server().Get("/creds", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(json_credentials("ASIACHAIN"), "application/json");
  });
  const TempDir dir;
  const auto chain = make_default_credentials_chain(
      environment_from_map({{"AWS_CONFIG_FILE", dir.path("none")},
                            {"AWS_SHARED_CREDENTIALS_FILE", dir.path("none")},
                            {"AWS_EC2_METADATA_DISABLED", "true"},
                            {"AWS_CONTAINER_CREDENTIALS_FULL_URI", endpoint.url() + "/creds"}}));
  const auto credentials = chain->get();
  ASSERT_TRUE(credentials) << credentials.error().message;
  EXPECT_EQ(credentials->access_key_id, "ASIACHAIN");
}

// --- container endpoint --------------------------------------------------------

class ContainerCredentials : public testing::Test {
 protected:
  void SetUp() override {
    endpoint_.server().Get("/v2/credentials/id",
                           [this](const httplib::Request& req, httplib::Response& res) {
                             ++calls_;
                             if (req.get_header_value("Authorization") != "expected-auth") {
                               res.status = 401;
                               res.set_content("unauthorised", "text/plain");
                               return;
                             }
                             res.set_content(json_credentials("ASIACONTAINER"), "application/json");
                           });
  }
  FakeEndpoint endpoint_;
  std::atomic<int> calls_{0};
};

TEST_F(ContainerCredentials, FullUriWithAuthorizationToken) {
  const auto credentials =
      make_container_credentials(
          environment_from_map(
              {{"AWS_CONTAINER_CREDENTIALS_FULL_URI", endpoint_.url() + "/v2/credentials/id"},
               {"AWS_CONTAINER_AUTHORIZATION_TOKEN", "expected-auth"}}))
          ->get();
  ASSERT_TRUE(credentials) << credentials.error().message;
  EXPECT_EQ(credentials->access_key_id, "ASIACONTAINER");
  EXPECT_EQ(credentials->secret_access_key, kSecret);
  EXPECT_EQ(credentials->session_token, kToken);
  EXPECT_EQ(credentials->expiration, parse_iso8601(kExpiration));
}

TEST_F(ContainerCredentials, AuthorizationTokenFromFileWinsOverTheVariable) {
  const TempDir dir;
  const auto credentials =
      make_container_credentials(
          environment_from_map(
              {{"AWS_CONTAINER_CREDENTIALS_FULL_URI", endpoint_.url() + "/v2/credentials/id"},
               {"AWS_CONTAINER_AUTHORIZATION_TOKEN", "stale"},
               {"AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", dir.write("token", "expected-auth\n")}}))
          ->get();
  ASSERT_TRUE(credentials) << credentials.error().message;
}

TEST_F(ContainerCredentials, RejectedTokenIsAnHttpErrorWithoutSecrets) {
  const auto result = make_container_credentials(
                          environment_from_map({{"AWS_CONTAINER_CREDENTIALS_FULL_URI",
                                                 endpoint_.url() + "/v2/credentials/id"},
                                                {"AWS_CONTAINER_AUTHORIZATION_TOKEN", kToken}}))
                          ->get();
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().http_status, 401);
  expect_no_secret(result.error());
}

TEST_F(ContainerCredentials, NonLoopbackPlainHttpFullUriIsRefused) {
  const auto result =
      make_container_credentials(environment_from_map({{"AWS_CONTAINER_CREDENTIALS_FULL_URI",
                                                        "http://example.com/creds"}}))
          ->get();
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, "InvalidEndpoint");
  EXPECT_EQ(calls_, 0);
}

TEST_F(ContainerCredentials, MalformedAnswerDoesNotEchoTheBody) {
  endpoint_.server().Get("/broken", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(std::string(R"({"AccessKeyId":"A","Token":")") + kToken + "\"}",
                    "application/json");
  });
  const auto result =
      make_container_credentials(environment_from_map({{"AWS_CONTAINER_CREDENTIALS_FULL_URI",
                                                        endpoint_.url() + "/broken"}}))
          ->get();
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, "MalformedResponse");
  expect_no_secret(result.error());
}

// --- EC2 instance metadata ---------------------------------------------------

class ImdsCredentials : public testing::Test {
 protected:
  void SetUp() override {
    auto& server = endpoint_.server();
    server.Put("/latest/api/token", [this](const httplib::Request& req, httplib::Response& res) {
      ++token_requests_;
      if (req.get_header_value("X-aws-ec2-metadata-token-ttl-seconds").empty()) {
        res.status = 400;
        return;
      }
      res.set_content("imds-session-token", "text/plain");
    });
    const auto authorised = [](const httplib::Request& req, httplib::Response& res) {
      if (req.get_header_value("X-aws-ec2-metadata-token") != "imds-session-token") {
        res.status = 401;
        return false;
      }
      return true;
    };
    server.Get("/latest/meta-data/iam/security-credentials/",
               [=](const httplib::Request& req, httplib::Response& res) {
                 if (authorised(req, res)) res.set_content("salesflow-role\n", "text/plain");
               });
    server.Get("/latest/meta-data/iam/security-credentials/salesflow-role",
               [=](const httplib::Request& req, httplib::Response& res) {
                 if (authorised(req, res)) {
                   res.set_content(json_credentials("ASIAIMDS"), "application/json");
                 }
               });
  }
  std::shared_ptr<CredentialsProvider> provider(ProviderOptions options = {}) {
    return make_imds_credentials(
        environment_from_map({{"AWS_EC2_METADATA_SERVICE_ENDPOINT", endpoint_.url()}}), options);
  }
  FakeEndpoint endpoint_;
  std::atomic<int> token_requests_{0};
};

TEST_F(ImdsCredentials, TokenFlowYieldsTheRoleCredentials) {
  const auto credentials = provider()->get();
  ASSERT_TRUE(credentials) << credentials.error().message;
  EXPECT_EQ(credentials->access_key_id, "ASIAIMDS");
  EXPECT_EQ(credentials->session_token, kToken);
  EXPECT_EQ(token_requests_, 1);
}

TEST_F(ImdsCredentials, RequestWithoutTokenGets401) {
  httplib::Client client(endpoint_.url());
  const auto response = client.Get("/latest/meta-data/iam/security-credentials/");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 401);
}

TEST_F(ImdsCredentials, ForbiddenTokenEndpointIsAnError) {
  FakeEndpoint forbidding;
  forbidding.server().Put("/latest/api/token", [](const httplib::Request&, httplib::Response& res) {
    res.status = 403;
  });
  const auto result =
      make_imds_credentials(
          environment_from_map({{"AWS_EC2_METADATA_SERVICE_ENDPOINT", forbidding.url()}}))
          ->get();
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().http_status, 403);
}

TEST_F(ImdsCredentials, DisabledByEnvironment) {
  const auto result =
      make_imds_credentials(
          environment_from_map({{"AWS_EC2_METADATA_SERVICE_ENDPOINT", endpoint_.url()},
                                {"AWS_EC2_METADATA_DISABLED", "true"}}))
          ->get();
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, "NotConfigured");
  EXPECT_EQ(token_requests_, 0);
}

TEST(ImdsOffEc2, ClosedPortFailsFastInsteadOfHanging) {
  // Bind an ephemeral port and close it again: connecting there is refused.
  int closed_port = 0;
  {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    ASSERT_GE(fd, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof(address);
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
    ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length), 0);
    closed_port = ntohs(address.sin_port);
    ::close(fd);
  }
  const auto started = std::chrono::steady_clock::now();
  const auto result =
      make_imds_credentials(
          environment_from_map({{"AWS_EC2_METADATA_SERVICE_ENDPOINT",
                                 "http://127.0.0.1:" + std::to_string(closed_port)}}))
          ->get();
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, "ConnectionError");
  // A hang guard, not a speed measurement.
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
}

TEST(ImdsOffEc2, SilentEndpointTimesOut) {
  FakeEndpoint silent;
  silent.server().Put("/latest/api/token", [](const httplib::Request&, httplib::Response& res) {
    std::this_thread::sleep_for(1500ms);
    res.set_content("late", "text/plain");
  });
  ProviderOptions options;
  options.metadata_timeout = 200ms;
  const auto result =
      make_imds_credentials(
          environment_from_map({{"AWS_EC2_METADATA_SERVICE_ENDPOINT", silent.url()}}), options)
          ->get();
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, "Timeout");
}

// --- STS web identity --------------------------------------------------------------

class WebIdentityCredentials : public testing::Test {
 protected:
  void SetUp() override {
    endpoint_.server().Post("/", [this](const httplib::Request& req, httplib::Response& res) {
      last_body_ = req.body;
      if (!req.body.ends_with("WebIdentityToken=web-identity-jwt")) {
        res.status = 400;
        res.set_content(
            "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error>"
            "<Type>Sender</Type><Code>InvalidIdentityToken</Code>"
            "<Message>Couldn't retrieve verification key from your identity provider</Message>"
            "</Error><RequestId>r-1</RequestId></ErrorResponse>",
            "text/xml");
        return;
      }
      res.set_content(std::string("<AssumeRoleWithWebIdentityResponse "
                                  "xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"
                                  "<AssumeRoleWithWebIdentityResult><Credentials>"
                                  "<AccessKeyId>ASIASTS</AccessKeyId><SecretAccessKey>") +
                          kSecret + "</SecretAccessKey><SessionToken>" + kToken +
                          "</SessionToken><Expiration>2030-01-01T00:00:00.000Z</Expiration>"
                          "</Credentials></AssumeRoleWithWebIdentityResult>"
                          "</AssumeRoleWithWebIdentityResponse>",
                      "text/xml");
    });
  }
  Env env(const std::string& token) const {
    return {{"AWS_WEB_IDENTITY_TOKEN_FILE", dir_.write("jwt", token)},
            {"AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/salesflow"},
            {"AWS_ROLE_SESSION_NAME", "worker 1"},
            {"AWS_ENDPOINT_URL_STS", endpoint_.url()}};
  }
  FakeEndpoint endpoint_;
  TempDir dir_;
  std::string last_body_;
};

TEST_F(WebIdentityCredentials, AssumesTheRole) {
  const auto credentials =
      make_web_identity_credentials(environment_from_map(env("web-identity-jwt\n")))->get();
  ASSERT_TRUE(credentials) << credentials.error().message;
  EXPECT_EQ(credentials->access_key_id, "ASIASTS");
  EXPECT_EQ(credentials->secret_access_key, kSecret);
  EXPECT_EQ(credentials->session_token, kToken);
  EXPECT_EQ(credentials->expiration, parse_iso8601("2030-01-01T00:00:00Z"));
  EXPECT_NE(last_body_.find("Action=AssumeRoleWithWebIdentity"), std::string::npos);
  EXPECT_NE(last_body_.find("RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fsalesflow"),
            std::string::npos);
  EXPECT_NE(last_body_.find("RoleSessionName=worker%201"), std::string::npos);
}

TEST_F(WebIdentityCredentials, StsErrorKeepsItsCodeAndHidesTheToken) {
  const auto result =
      make_web_identity_credentials(environment_from_map(env("web-identity-jwt-rejected")))->get();
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, "InvalidIdentityToken");
  EXPECT_EQ(result.error().http_status, 400);
  expect_no_secret(result.error());
}

TEST_F(WebIdentityCredentials, MissingTokenFileIsAnError) {
  Env variables = env("x");
  variables["AWS_WEB_IDENTITY_TOKEN_FILE"] = dir_.path("absent");
  const auto result = make_web_identity_credentials(environment_from_map(variables))->get();
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, "InvalidIdentityToken");
}

// --- refresh -----------------------------------------------------------------------

// Refreshes ahead, on a thread of its own: get() never waits for a fetch
// while the cached credentials are valid (a request attempt on the HTTP I/O
// thread must not stall on STS), and a failed refresh keeps serving them.
TEST(RefreshingCredentials, RefreshesAheadWithoutMakingCallersWaitAndSurvivesAFailedRefresh) {
  const auto t0 = std::chrono::sys_days(std::chrono::year(2024) / 1 / 1) + 0s;
  std::mutex mutex;
  std::condition_variable fetched;
  std::chrono::system_clock::time_point now = t0;
  int fetches = 0;
  bool failing = false;
  bool blocked = false;  // a fetch hangs until released, as a stalled endpoint does
  const auto clock = [&] {
    const std::lock_guard lock(mutex);
    return now;
  };
  const auto set_now = [&](std::chrono::system_clock::time_point t) {
    const std::lock_guard lock(mutex);
    now = t;
  };
  const auto wait_for_fetches = [&](int count) {
    std::unique_lock lock(mutex);
    return fetched.wait_for(lock, 10s, [&] { return fetches >= count; });
  };
  const auto provider = make_refreshing_credentials(
      [&]() -> Result<Credentials> {
        std::unique_lock lock(mutex);
        fetched.wait(lock, [&] { return !blocked; });
        ++fetches;
        fetched.notify_all();
        if (failing) {
          AwsError error;
          error.code = "ConnectionError";
          return tl::make_unexpected(error);
        }
        return Credentials{"ASIA" + std::to_string(fetches), "s", "t", now + 1h};
      },
      clock, 300s);

  EXPECT_EQ(provider->get()->access_key_id, "ASIA1");  // nothing cached: the caller fetches
  set_now(t0 + 54min);
  EXPECT_EQ(provider->get()->access_key_id, "ASIA1");
  EXPECT_EQ(fetches, 1);

  // Due for refresh while the endpoint stalls: callers still get the valid ones at once.
  {
    const std::lock_guard lock(mutex);
    blocked = true;
  }
  set_now(t0 + 55min);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(provider->get()->access_key_id, "ASIA1");
  {
    const std::lock_guard lock(mutex);
    blocked = false;
  }
  fetched.notify_all();
  ASSERT_TRUE(wait_for_fetches(2));
  for (int i = 0; i < 100 && provider->get()->access_key_id != "ASIA2"; ++i) {
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_EQ(provider->get()->access_key_id, "ASIA2");

  // The refresh fails: the old credentials are served while they are valid.
  {
    const std::lock_guard lock(mutex);
    failing = true;
  }
  set_now(t0 + 55min + 56min);  // ASIA2 due, still valid for four minutes
  EXPECT_EQ(provider->get()->access_key_id, "ASIA2");
  ASSERT_TRUE(wait_for_fetches(3));
  EXPECT_EQ(provider->get()->access_key_id, "ASIA2");
  set_now(t0 + 55min + 61min);  // expired, and the caller's own fetch fails
  const auto expired = provider->get();
  ASSERT_FALSE(expired);
  EXPECT_EQ(expired.error().code, "ConnectionError");
  {
    const std::lock_guard lock(mutex);
    failing = false;
  }
  const auto again = provider->get();
  ASSERT_TRUE(again);
  EXPECT_NE(again->access_key_id, "ASIA2");
}

// A refresh ahead of expiry that fails is told to the caller (the app logs
// and counts it) with the error and how long the cached credentials last.
TEST(RefreshingCredentials, AFailedRefreshIsReportedWithTheRemainingValidity) {
  const auto t0 = std::chrono::sys_days(std::chrono::year(2024) / 1 / 1) + 0s;
  std::mutex mutex;
  std::condition_variable reported;
  std::chrono::system_clock::time_point now = t0;
  int fetches = 0;
  std::vector<std::pair<std::string, std::chrono::seconds>> failures;
  const auto clock = [&] {
    const std::lock_guard lock(mutex);
    return now;
  };
  const auto provider = make_refreshing_credentials(
      [&]() -> Result<Credentials> {
        const std::lock_guard lock(mutex);
        if (++fetches == 1) return Credentials{"ASIA1", "s", "t", t0 + 1h};
        AwsError error;
        error.service = "sts";
        error.code = "ExpiredTokenException";
        return tl::make_unexpected(error);
      },
      clock, 300s,
      [&](const AwsError& error, std::chrono::seconds valid_for) {
        const std::lock_guard lock(mutex);
        failures.emplace_back(error.code, valid_for);
        reported.notify_all();
      });
  ASSERT_EQ(provider->get()->access_key_id, "ASIA1");
  {
    const std::lock_guard lock(mutex);
    now = t0 + 58min;  // due (5 minutes ahead), valid for 2 more
  }
  EXPECT_EQ(provider->get()->access_key_id, "ASIA1");  // asks the refresher, serves the cached
  std::unique_lock lock(mutex);
  ASSERT_TRUE(reported.wait_for(lock, 10s, [&] { return !failures.empty(); }));
  EXPECT_EQ(failures.front().first, "ExpiredTokenException");
  EXPECT_EQ(failures.front().second, 120s);
}

TEST(Iso8601, ParsesUtcTimestamps) {
  const auto expected = std::chrono::sys_days(std::chrono::year(2030) / 1 / 2) + 3h + 4min + 5s;
  EXPECT_EQ(parse_iso8601("2030-01-02T03:04:05Z"), expected);
  EXPECT_EQ(parse_iso8601("2030-01-02T03:04:05.123Z"), expected);
  EXPECT_FALSE(parse_iso8601("2030-01-02 03:04:05"));
  EXPECT_FALSE(parse_iso8601("2030-02-30T00:00:00Z"));
  EXPECT_FALSE(parse_iso8601(""));
}

}  // namespace
}  // namespace salesflow::aws
