#pragma once
// What the correction commands (`dlq export|replay|discard`) and the console
// share: a session on the DLQ and the table, the audit file of discards, and
// the JSON of one replay result.

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <tl/expected.hpp>

#include "app/detail/aws_clients.hpp"
#include "pipeline/correction_loop.hpp"

namespace salesflow::app {

// The clients and the job environment: the table sink in the configured
// conflict mode, and the DLQ's URL (resolved once, by make_job_environment).
struct CorrectionSession {
  std::unique_ptr<AwsClients> aws;
  std::unique_ptr<pipeline::JobEnvironment> job;

  [[nodiscard]] pipeline::CorrectionClients clients();
  [[nodiscard]] const std::string& dlq_url() const { return job->dlq_url(); }
};

// Errors are one line (no region, a missing queue, ...).
[[nodiscard]] tl::expected<CorrectionSession, std::string> open_correction_session(
    const Settings& settings, core::Rules rules);

// Appends one line per discarded envelope and syncs the file before the
// caller deletes anything. Thread-safe.
class AuditFile {
 public:
  explicit AuditFile(std::string path);
  ~AuditFile();
  AuditFile(const AuditFile&) = delete;
  AuditFile& operator=(const AuditFile&) = delete;

  [[nodiscard]] bool is_open() const { return fd_ >= 0; }
  [[nodiscard]] const std::string& path() const { return path_; }
  // Why the file cannot be opened (when !is_open()).
  [[nodiscard]] const std::string& open_error() const { return open_error_; }

  // nullopt when the line {"discarded_at", "reason", "user", "envelope"} is
  // durable; else why not.
  [[nodiscard]] std::optional<std::string> append(const std::string& reason,
                                                  const std::string& envelope) const;

 private:
  std::string path_;
  int fd_;
  std::string open_error_;
  mutable std::mutex mutex_;
};

using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

// {"id","line","status","reasons"?,"detail"?,"item"?} of one replay result.
void write_replay_result(JsonWriter& w, const pipeline::ReplayResult& result);
// [{"code","path","message"}...]
void write_reasons(JsonWriter& w, const std::vector<core::Reason>& reasons);
// A member name, and a string value, of any length.
void write_key(JsonWriter& w, std::string_view key);
void write_string(JsonWriter& w, std::string_view value);

}  // namespace salesflow::app
