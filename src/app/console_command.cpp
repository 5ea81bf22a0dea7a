// `salesflow console`: the correction loop in a browser (docs/correction.md).
// A small HTTP server (cpp-httplib) on loopback serves the page built into
// the binary (src/app/console/) and a JSON API over the same operations as
// `salesflow dlq export|replay|discard` (src/pipeline/correction_loop.hpp):
//
//   GET  /api/session    the page's token and what it works on (no credentials)
//   GET  /api/envelopes  one pass over the DLQ, consuming nothing
//   POST /api/validate   {"id","raw"}: the real validator's verdict and item, no AWS call
//   POST /api/replay     {"id","raw"}: validate, write, then delete the message
//   POST /api/discard    {"id","reason"}: audit, then delete
//
// Safe by design: it listens on loopback unless --allow-remote; a request
// whose Host is not the address it serves is refused (DNS rebinding); every
// POST needs the per-process token in X-Salesflow-Token, which only a page of
// this origin can read (no CORS), and a JSON body; the answers carry a strict
// Content-Security-Policy; every request is logged. Replays and discards run
// one at a time.

#include <fmt/core.h>
#include <httplib.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <simdjson.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>
#include <mutex>
#include <random>
#include <thread>
#include <unordered_map>

#include "app/detail/commands.hpp"
#include "app/detail/console_assets.hpp"
#include "app/detail/correction_support.hpp"
#include "app/detail/signals.hpp"
#include "app/log.hpp"
#include "base/hex.hpp"
#include "base/time.hpp"
#include "core/record_validator.hpp"

namespace salesflow::app {
namespace {

constexpr std::string_view kContentSecurityPolicy =
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

struct ConsoleOptions {
  std::string addr = "127.0.0.1:8080";
  bool allow_remote = false;
  std::string audit = "salesflow-discards.jsonl";
  std::size_t page_limit = 5000;
  int visibility_s = 120;
};

struct Address {
  std::string host;
  int port = 0;
};

tl::expected<Address, std::string> parse_address(const std::string& text) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    return tl::make_unexpected("--addr must be HOST:PORT, e.g. 127.0.0.1:8080");
  }
  Address address;
  address.host = text.substr(0, colon);
  if (address.host.size() > 2 && address.host.front() == '[' && address.host.back() == ']') {
    address.host = address.host.substr(1, address.host.size() - 2);
  }
  const std::string port = text.substr(colon + 1);
  const auto [end, error] = std::from_chars(port.data(), port.data() + port.size(), address.port);
  if (error != std::errc() || end != port.data() + port.size() || address.port < 0 ||
      address.port > 65535) {
    return tl::make_unexpected("--addr: the port must be a number from 0 to 65535");
  }
  return address;
}

bool is_loopback(const std::string& host) {
  return host == "localhost" || host == "::1" || host.starts_with("127.");
}

std::string random_token() {
  std::random_device device;  // getrandom(2) on Linux
  std::array<std::uint8_t, 16> bytes{};
  for (auto& byte : bytes) byte = static_cast<std::uint8_t>(device() & 0xFFU);
  return base::hex_encode(bytes);
}

std::string error_json(std::string_view message) {
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  write_key(w, "error");
  write_string(w, message);
  w.EndObject();
  return buffer.GetString();
}

class Console {
 public:
  Console(const Settings& settings, const ConsoleOptions& options, core::Rules rules,
          CorrectionSession session, Log& log)
      : settings_(settings),
        options_(options),
        rules_(std::move(rules)),
        session_(std::move(session)),
        log_(log),
        audit_(options.audit),
        token_(random_token()) {}

  [[nodiscard]] const AuditFile& audit() const { return audit_; }

  void route(httplib::Server& server, const std::vector<std::string>& allowed_hosts) {
    server.set_pre_routing_handler(
        [this, allowed_hosts](const httplib::Request& request, httplib::Response& response) {
          return guard(request, response, allowed_hosts);
        });
    server.set_logger([this](const httplib::Request& request, const httplib::Response& response) {
      log_.info("console request", Fields()
                                       .add("method", request.method)
                                       .add("path", request.path)
                                       .add("status", response.status)
                                       .add("remote", request.remote_addr));
    });
    for (const ConsoleAsset& asset : console_assets()) {
      const auto serve = [asset](const httplib::Request&, httplib::Response& response) {
        response.set_content(std::string(asset.body), std::string(asset.content_type));
      };
      server.Get(std::string(asset.path), serve);
      if (asset.path == "/index.html") server.Get("/", serve);
    }
    server.Get("/api/session", [this](const httplib::Request&, httplib::Response& response) {
      json(response, session_json());
    });
    server.Get("/api/envelopes",
               [this](const httplib::Request& request, httplib::Response& response) {
                 envelopes(request, response);
               });
    server.Post("/api/validate",
                [this](const httplib::Request& request, httplib::Response& response) {
                  validate(request, response);
                });
    server.Post("/api/replay", [this](const httplib::Request& request,
                                      httplib::Response& response) { replay(request, response); });
    server.Post("/api/discard",
                [this](const httplib::Request& request, httplib::Response& response) {
                  discard(request, response);
                });
  }

 private:
  httplib::Server::HandlerResponse guard(const httplib::Request& request,
                                         httplib::Response& response,
                                         const std::vector<std::string>& allowed_hosts) {
    response.set_header("Content-Security-Policy", std::string(kContentSecurityPolicy));
    response.set_header("X-Content-Type-Options", "nosniff");
    response.set_header("Referrer-Policy", "no-referrer");
    response.set_header("Cache-Control", "no-store");
    const std::string host = request.get_header_value("Host");
    if (std::find(allowed_hosts.begin(), allowed_hosts.end(), host) == allowed_hosts.end()) {
      refuse(response, 421,
             fmt::format("this console serves {}, not {}", allowed_hosts.front(),
                         host.empty() ? "(no Host)" : host));
      return httplib::Server::HandlerResponse::Handled;
    }
    if (request.method == "POST") {
      if (request.get_header_value("X-Salesflow-Token") != token_) {
        refuse(response, 403, "missing or wrong X-Salesflow-Token (reload the page)");
        return httplib::Server::HandlerResponse::Handled;
      }
      if (!request.get_header_value("Content-Type").starts_with("application/json")) {
        refuse(response, 415, "the body must be application/json");
        return httplib::Server::HandlerResponse::Handled;
      }
    }
    return httplib::Server::HandlerResponse::Unhandled;
  }

  static void refuse(httplib::Response& response, int status, std::string_view message) {
    response.status = status;
    response.set_content(error_json(message), "application/json");
  }

  static void json(httplib::Response& response, const std::string& body) {
    response.set_content(body, "application/json");
  }

  std::string session_json() const {
    rapidjson::StringBuffer buffer;
    JsonWriter w(buffer);
    w.StartObject();
    write_key(w, "token");
    write_string(w, token_);
    write_key(w, "dlq");
    write_string(w, settings_.resources.dlq);
    write_key(w, "table");
    write_string(w, settings_.resources.table);
    write_key(w, "bucket");
    write_string(w, settings_.resources.bucket);
    write_key(w, "region");
    write_string(w, session_.aws->config().region);
    write_key(w, "audit");
    write_string(w, audit_.path());
    write_key(w, "version");
    write_string(w, SALESFLOW_VERSION);
    w.EndObject();
    return buffer.GetString();
  }

  pipeline::DlqSweepOptions sweep_options() const {
    pipeline::DlqSweepOptions sweep;
    sweep.visibility = std::chrono::seconds(options_.visibility_s);
    return sweep;
  }

  void envelopes(const httplib::Request& request, httplib::Response& response) {
    pipeline::ExportFilter filter;
    if (request.has_param("reason")) filter.reasons.push_back(request.get_param_value("reason"));
    filter.source_prefix = request.get_param_value("source");
    filter.since = request.get_param_value("since");
    filter.limit = options_.page_limit;
    std::vector<std::string> lines;
    pipeline::ExportReport report;
    {
      const std::scoped_lock lock(work_mutex_);
      report = pipeline::export_envelopes(
          session_.clients(), session_.dlq_url(), filter, sweep_options(),
          [&lines](const std::string& line) { lines.push_back(line); });
    }
    if (report.error) {
      refuse(response, 502, "the DLQ cannot be read: " + report.error->to_string());
      return;
    }
    {
      const std::scoped_lock lock(cache_mutex_);
      envelopes_.clear();
      for (const auto& line : lines) {
        if (auto envelope = core::read_envelope(line))
          envelopes_[envelope->id] = std::move(*envelope);
      }
    }
    rapidjson::StringBuffer buffer;
    JsonWriter w(buffer);
    w.StartObject();
    write_key(w, "messages");
    w.Uint64(report.messages);
    write_key(w, "repeats");
    w.Uint64(report.repeats);
    write_key(w, "foreign");
    w.Uint64(report.foreign);
    write_key(w, "whole_queue");
    w.Bool(report.whole_queue);
    write_key(w, "problems");
    w.StartArray();
    for (const auto& problem : report.problems) write_string(w, problem);
    w.EndArray();
    write_key(w, "envelopes");
    w.StartArray();
    for (const auto& line : lines) w.RawValue(line.data(), line.size(), rapidjson::kObjectType);
    w.EndArray();
    w.EndObject();
    json(response, buffer.GetString());
  }

  // The correction in a request body, with the envelope of the last listing.
  tl::expected<core::Correction, std::string> correction_of(const httplib::Request& request) {
    auto correction = core::parse_correction(request.body, 1);
    if (!correction) return correction;
    const std::scoped_lock lock(cache_mutex_);
    if (const auto found = envelopes_.find(correction->id); found != envelopes_.end()) {
      correction->envelope = found->second;
    }
    return correction;
  }

  void validate(const httplib::Request& request, httplib::Response& response) {
    auto correction = correction_of(request);
    if (!correction) {
      refuse(response, 400, correction.error());
      return;
    }
    pipeline::ReplayOptions options;
    options.corrected_at = base::iso8601_utc_ms(std::chrono::system_clock::now());
    const pipeline::ReplayReport report =
        pipeline::dry_run_corrections(rules_, {*correction}, options);
    const pipeline::ReplayResult& result = report.results.front();
    rapidjson::StringBuffer buffer;
    JsonWriter w(buffer);
    w.StartObject();
    write_key(w, "valid");
    w.Bool(result.status == pipeline::ReplayStatus::would_replay);
    write_key(w, "status");
    write_string(w, to_string(result.status));
    write_key(w, "reasons");
    write_reasons(w, result.reasons);
    if (!result.detail.empty()) {
      write_key(w, "detail");
      write_string(w, result.detail);
    }
    if (!result.item_json.empty()) {
      write_key(w, "item");
      write_string(w, result.item_json);
    }
    w.EndObject();
    json(response, buffer.GetString());
  }

  void replay(const httplib::Request& request, httplib::Response& response) {
    auto correction = correction_of(request);
    if (!correction) {
      refuse(response, 400, correction.error());
      return;
    }
    pipeline::ReplayOptions options;
    options.table = settings_.resources.table;
    options.corrected_at = base::iso8601_utc_ms(std::chrono::system_clock::now());
    options.sweep = sweep_options();
    pipeline::ReplayReport report;
    {
      const std::scoped_lock lock(work_mutex_);
      report = pipeline::replay_corrections(session_.clients(), rules_, session_.dlq_url(),
                                            {*correction}, options);
    }
    const pipeline::ReplayResult& result = report.results.front();
    log_.info("console replay", Fields()
                                    .add("id", result.id)
                                    .add("status", to_string(result.status))
                                    .add("messages_deleted", report.messages_deleted));
    if (report.error) {
      refuse(response, 502, "the DLQ cannot be read: " + report.error->to_string());
      return;
    }
    rapidjson::StringBuffer buffer;
    JsonWriter w(buffer);
    write_replay_result(w, result);
    json(response, buffer.GetString());
  }

  void discard(const httplib::Request& request, httplib::Response& response) {
    simdjson::dom::parser parser;
    simdjson::dom::element body;
    std::string_view id;
    std::string_view reason;
    if (parser.parse(request.body).get(body) != simdjson::SUCCESS ||
        body["id"].get(id) != simdjson::SUCCESS || id.empty() ||
        body["reason"].get(reason) != simdjson::SUCCESS || reason.empty()) {
      refuse(response, 400, "the body must be {\"id\": \"...\", \"reason\": \"...\"}");
      return;
    }
    const std::string why(reason);
    pipeline::DiscardReport report;
    {
      const std::scoped_lock lock(work_mutex_);
      report = pipeline::discard_envelopes(
          session_.clients(), session_.dlq_url(), {std::string(id)}, sweep_options(),
          [this, &why](const std::string&, const std::string& envelope) {
            return audit_.append(why, envelope);
          });
    }
    const pipeline::DiscardResult& result = report.results.front();
    log_.info("console discard", Fields()
                                     .add("id", result.id)
                                     .add("status", to_string(result.status))
                                     .add("reason", why)
                                     .add("audit", audit_.path()));
    if (report.error) {
      refuse(response, 502, "the DLQ cannot be read: " + report.error->to_string());
      return;
    }
    rapidjson::StringBuffer buffer;
    JsonWriter w(buffer);
    w.StartObject();
    write_key(w, "id");
    write_string(w, result.id);
    write_key(w, "status");
    write_string(w, to_string(result.status));
    if (!result.detail.empty()) {
      write_key(w, "detail");
      write_string(w, result.detail);
    }
    w.EndObject();
    json(response, buffer.GetString());
  }

  const Settings& settings_;
  const ConsoleOptions& options_;
  const core::Rules rules_;
  CorrectionSession session_;
  Log& log_;
  AuditFile audit_;
  const std::string token_;
  std::mutex work_mutex_;                                             // one DLQ pass at a time
  std::mutex cache_mutex_;                                            // envelopes_
  std::unordered_map<std::string, core::EnvelopeSummary> envelopes_;  // the last listing's
};

int run_console(const Settings& settings, const ConsoleOptions& options) {
  auto address = parse_address(options.addr);
  if (!address) {
    fmt::print(stderr, "salesflow console: {}\n", address.error());
    return kExitUsage;
  }
  if (!is_loopback(address->host) && !options.allow_remote) {
    fmt::print(stderr,
               "salesflow console: {} is not a loopback address; the console can replay and "
               "discard records, so it listens beyond this machine only with --allow-remote\n",
               address->host);
    return kExitUsage;
  }
  auto rules = load_rules(settings);
  if (!rules) {
    fmt::print(stderr, "salesflow console: {}\n", rules.error());
    return kExitUsage;
  }
  auto level = parse_log_level(settings.log_level);
  Log log(level.value_or(LogLevel::info));
  StopSignals signals(std::chrono::seconds(5), kExitOk);
  auto session = open_correction_session(settings, *rules);
  if (!session) {
    fmt::print(stderr, "salesflow console: {}\n", session.error());
    return kExitUsage;
  }
  Console console(settings, options, std::move(*rules), std::move(*session), log);
  if (!console.audit().is_open()) {
    fmt::print(stderr, "salesflow console: cannot open the audit file {}: {}\n",
               console.audit().path(), console.audit().open_error());
    return kExitUsage;
  }
  httplib::Server server;
  const int port = address->port == 0
                       ? server.bind_to_any_port(address->host)
                       : (server.bind_to_port(address->host, address->port) ? address->port : -1);
  if (port < 0) {
    fmt::print(stderr, "salesflow console: cannot listen on {}: {}\n", options.addr,
               std::strerror(errno));
    return kExitUsage;
  }
  const std::string host_port = address->host.find(':') != std::string::npos
                                    ? fmt::format("[{}]:{}", address->host, port)
                                    : fmt::format("{}:{}", address->host, port);
  std::vector<std::string> allowed_hosts{host_port};
  if (is_loopback(address->host)) {
    allowed_hosts.push_back(fmt::format("localhost:{}", port));
    allowed_hosts.push_back(fmt::format("127.0.0.1:{}", port));
  }
  console.route(server, allowed_hosts);
  fmt::print("salesflow console: serving http://{}/ (DLQ {}, table {}, audit {})\n", host_port,
             settings.resources.dlq, settings.resources.table, console.audit().path());
  std::fflush(stdout);
  std::thread stopper([&server, &signals] {
    while (!signals.stop().load()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    server.stop();
  });
  const bool served = server.listen_after_bind();
  server.stop();
  stopper.join();
  if (!served && !signals.stop().load()) {
    fmt::print(stderr, "salesflow console: the server stopped: {}\n", std::strerror(errno));
    return kExitUsage;
  }
  return kExitOk;
}

}  // namespace

void add_console_command(CLI::App& root, Settings& settings, int& status) {
  auto options = std::make_shared<ConsoleOptions>();
  auto* command = root.add_subcommand(
      "console", "A web page to inspect the DLQ, correct records, replay and discard them");
  command->add_option("--addr", options->addr, "HOST:PORT to serve on (port 0: any free port)")
      ->capture_default_str();
  command->add_flag("--allow-remote", options->allow_remote,
                    "Allow an --addr that is not loopback (anyone reaching it can replay and "
                    "discard)");
  command->add_option("--audit", options->audit, "File discarded envelopes are appended to")
      ->capture_default_str();
  command->add_option("--limit", options->page_limit, "Envelopes the page lists at most")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  add_conflict_option(*command, settings);
  command->callback([&settings, &status, options] { status = run_console(settings, *options); });
}

}  // namespace salesflow::app
