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
void write_string(JsonWriter& w, std::string_view value) {
  w.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
}

void write_key(JsonWriter& w, std::string_view key) {
  w.Key(key.data(), static_cast<rapidjson::SizeType>(key.size()));
}

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
  write_key(w, "discarded_at");
  write_string(w, base::iso8601_utc_ms(std::chrono::system_clock::now()));
  write_key(w, "reason");
  write_string(w, reason);
  write_key(w, "user");
  write_string(w, user != nullptr ? user : "");
  write_key(w, "envelope");
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
    write_key(w, "code");
    write_string(w, to_string(reason.code));
    write_key(w, "path");
    write_string(w, reason.path);
    write_key(w, "message");
    write_string(w, reason.message);
    w.EndObject();
  }
  w.EndArray();
}

void write_replay_result(JsonWriter& w, const pipeline::ReplayResult& result) {
  w.StartObject();
  write_key(w, "id");
  write_string(w, result.id);
  write_key(w, "line");
  w.Uint64(result.line);
  write_key(w, "status");
  write_string(w, to_string(result.status));
  if (!result.reasons.empty()) {
    write_key(w, "reasons");
    write_reasons(w, result.reasons);
  }
  if (!result.detail.empty()) {
    write_key(w, "detail");
    write_string(w, result.detail);
  }
  if (!result.item_json.empty()) {
    write_key(w, "item");
    w.RawValue(result.item_json.data(), result.item_json.size(), rapidjson::kObjectType);
  }
  w.EndObject();
}

}  // namespace salesflow::app
