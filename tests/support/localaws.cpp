#include "support/localaws.hpp"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <simdjson.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <charconv>
#include <cstdlib>
#include <random>
#include <stdexcept>

#include "aws/service.hpp"

namespace salesflow::test {

FakeServer::FakeServer() {
  server_.set_keep_alive_max_count(100000);
  server_.set_tcp_nodelay(true);  // headers and body go out in separate writes
}

FakeServer::~FakeServer() {
  server_.stop();
  if (thread_.joinable()) thread_.join();
}

void FakeServer::start() {
  port_ = server_.bind_to_any_port("127.0.0.1");
  if (port_ <= 0) throw std::runtime_error("FakeServer: cannot bind a loopback port");
  thread_ = std::thread([this] { server_.listen_after_bind(); });
  // The socket already listens: connections queue until the accept loop runs.
}

std::string FakeServer::host() const {
  return fmt::format("127.0.0.1:{}", port_);
}
std::string FakeServer::endpoint() const {
  return "http://" + host();
}

int unused_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof(address);
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0) {
    port = ntohs(address.sin_port);
  }
  ::close(fd);  // never listened on: connecting to it is refused
  return port;
}

std::shared_ptr<aws::CredentialsProvider> test_credentials() {
  return aws::make_static_credentials(aws::Credentials{"test", "test", "", std::nullopt});
}

aws::ClientConfig local_client_config(std::shared_ptr<aws::HttpClient> http, std::string endpoint,
                                      int max_attempts) {
  aws::ClientConfig config;
  config.http = std::move(http);
  config.credentials = test_credentials();
  config.region = "us-east-1";
  config.endpoint_url = std::move(endpoint);
  config.retry.max_attempts = max_attempts;
  return config;
}

std::optional<LocalAws> LocalAws::from_env() {
  const char* s3 = std::getenv("AWS_ENDPOINT_URL_S3");
  const char* sqs = std::getenv("AWS_ENDPOINT_URL_SQS");
  const char* dynamodb = std::getenv("AWS_ENDPOINT_URL_DYNAMODB");
  const char* admin = std::getenv("SALESFLOW_LOCALAWS_ADMIN");
  if (s3 == nullptr || sqs == nullptr || dynamodb == nullptr || admin == nullptr)
    return std::nullopt;
  LocalAws stack{s3, sqs, dynamodb, admin, 0, {}};
  if (const char* seed = std::getenv("LOCALAWS_FAULT_SEED"); seed != nullptr && *seed != '\0') {
    const std::string_view text(seed);
    const auto [end, error] =
        std::from_chars(text.data(), text.data() + text.size(), stack.fault_seed);
    if (error != std::errc() || end != text.data() + text.size())
      throw std::invalid_argument(fmt::format(
          "LOCALAWS_FAULT_SEED must be an integer from 0 to 4294967295, not \"{}\"", text));
  } else {
    stack.fault_seed = std::random_device{}();
  }
  return stack;
}

namespace {
std::string admin_call(const std::string& admin_endpoint, std::string method, std::string path,
                       std::string body, std::string* response_body = nullptr) {
  auto endpoint = aws::parse_endpoint_url(admin_endpoint);
  if (!endpoint) return endpoint.error().to_string();
  aws::HttpClient client;
  aws::HttpRequest request;
  request.method = std::move(method);
  request.scheme = endpoint->scheme;
  request.host = endpoint->host;
  request.path = endpoint->base_path + path;
  request.headers.push_back({"Content-Type", "application/json"});
  request.body = std::move(body);
  const auto response = client.send(request);
  if (!response) return response.error().to_string();
  if (response->status != 200 && response->status != 201) {
    return fmt::format("HTTP {}: {}", response->status, response->body);
  }
  if (response_body != nullptr) *response_body = response->body;
  return {};
}
}  // namespace

std::string LocalAws::set_faults(std::string_view rules_json) {
  const auto open = rules_json.find('{');
  if (open == std::string_view::npos)
    return "set_faults wants {\"rules\":[...]}, got " + std::string(rules_json);
  std::string body(rules_json);
  body.insert(open + 1, fmt::format("\"seed\":{},", fault_seed));
  fmt::print(stderr, "fault rules seeded with {} (replay: LOCALAWS_FAULT_SEED={})\n", fault_seed,
             fault_seed);
  std::string answer;
  if (auto error = admin_call(admin_endpoint, "POST", "/faults", body, &answer); !error.empty()) {
    return error;
  }
  simdjson::dom::parser parser;
  simdjson::dom::array rules;
  if (parser.parse(answer).get_object()["rules"].get(rules) != simdjson::SUCCESS) {
    return "unexpected answer to POST /faults: " + answer;
  }
  for (const auto rule : rules) {
    std::string_view id;
    if (rule["id"].get(id) != simdjson::SUCCESS) return "a rule without id: " + answer;
    fault_ids.emplace_back(id);
  }
  return {};
}

std::string LocalAws::clear_faults() {
  std::string errors;
  for (const auto& id : fault_ids) {
    errors += admin_call(admin_endpoint, "DELETE", "/faults/" + id, "");
  }
  fault_ids.clear();
  return errors;
}

std::string unique_name(std::string_view prefix) {
  static std::atomic<int> counter{0};
  std::random_device device;
  return fmt::format("{}-{}-{}-{:x}", prefix, ::getpid(), counter++, device() & 0xffffu);
}

}  // namespace salesflow::test
