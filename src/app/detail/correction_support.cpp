#include "app/detail/correction_support.hpp"

#include <fcntl.h>
#include <fmt/core.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include "base/time.hpp"

namespace salesflow::app {
namespace {

void string_value(JsonWriter& w, std::string_view v) {
  w.String(v.data(), static_cast<rapidjson::SizeType>(v.size()));
}

void key(JsonWriter& w, std::string_view k) {
  w.Key(k.data(), static_cast<rapidjson::SizeType>(k.size()));
}

}  // namespace

pipeline::CorrectionClients CorrectionSession::clients() {
  return pipeline::CorrectionClients{aws->sqs(), aws->s3(), aws->dynamodb(), job->items()};
}

tl::expected<CorrectionSession, std::string> open_correction_session(const Settings& settings,
                                                                     core::Rules rules) {
  CorrectionSession session;
  auto aws = AwsClients::create(settings);
  if (!aws) return tl::make_unexpected(aws.error());
  session.aws = std::move(*aws);
  auto job = make_job_environment(*session.aws, settings, std::move(rules), nullptr);
  if (!job) return tl::make_unexpected(job.error());
  session.job = std::move(*job);
  auto url = session.aws->queue_url(settings.resources.dlq);
  if (!url) return tl::make_unexpected(url.error());
  session.dlq_url = std::move(*url);
  return session;
}

AuditFile::AuditFile(std::string path)
    : path_(std::move(path)),
      fd_(::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600)) {
  if (fd_ < 0) open_error_ = std::strerror(errno);
}

AuditFile::~AuditFile() {
  if (fd_ >= 0) ::close(fd_);
}

std::optional<std::string> AuditFile::append(const std::string& reason,
                                             const std::string& envelope) const {
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  const char* user = std::getenv("USER");
  w.StartObject();
  key(w, "discarded_at");
  string_value(w, base::iso8601_utc_ms(std::chrono::system_clock::now()));
  key(w, "reason");
  string_value(w, reason);
  key(w, "user");
  string_value(w, user != nullptr ? user : "");
  key(w, "envelope");
  w.RawValue(envelope.data(), envelope.size(), rapidjson::kObjectType);
  w.EndObject();
  std::string line(buffer.GetString(), buffer.GetSize());
  line.push_back('\n');
  // O_APPEND puts each write at the end; the lock keeps the pieces of one
  // line (after a short write) together when console requests discard at once.
  const std::scoped_lock lock(mutex_);
  std::string_view rest = line;
  while (!rest.empty()) {
    const auto written = ::write(fd_, rest.data(), rest.size());
    if (written < 0) {
      if (errno == EINTR) continue;
      return fmt::format("writing the audit file {} failed: {}", path_, std::strerror(errno));
    }
    rest.remove_prefix(static_cast<std::size_t>(written));
  }
  if (::fsync(fd_) != 0) {
    return fmt::format("syncing the audit file {} failed: {}", path_, std::strerror(errno));
  }
  return std::nullopt;
}

void write_reasons(JsonWriter& w, const std::vector<core::Reason>& reasons) {
  w.StartArray();
  for (const auto& reason : reasons) {
    w.StartObject();
    key(w, "code");
    string_value(w, to_string(reason.code));
    key(w, "path");
    string_value(w, reason.path);
    key(w, "message");
    string_value(w, reason.message);
    w.EndObject();
  }
  w.EndArray();
}

void write_replay_result(JsonWriter& w, const pipeline::ReplayResult& result) {
  w.StartObject();
  key(w, "id");
  string_value(w, result.id);
  key(w, "line");
  w.Uint64(result.line);
  key(w, "status");
  string_value(w, to_string(result.status));
  if (!result.reasons.empty()) {
    key(w, "reasons");
    write_reasons(w, result.reasons);
  }
  if (!result.detail.empty()) {
    key(w, "detail");
    string_value(w, result.detail);
  }
  if (!result.item_json.empty()) {
    key(w, "item");
    w.RawValue(result.item_json.data(), result.item_json.size(), rapidjson::kObjectType);
  }
  w.EndObject();
}

}  // namespace salesflow::app
