#pragma once
// Structured logging: one JSON object per line,
//   {"ts":"2024-03-14T09:26:53.589Z","level":"info","msg":"...", ...fields}
// on stderr (or any stream, for tests). Each Log owns its spdlog logger; none
// is registered globally.

#include <cstdint>
#include <iosfwd>
#include <memory>
#include <string>
#include <string_view>
#include <tl/expected.hpp>
#include <variant>
#include <vector>

#include "pipeline/object_job.hpp"

namespace spdlog {
class logger;
}

namespace salesflow::app {

enum class LogLevel { trace, debug, info, warn, error, off };

// "trace", "debug", "info", "warn" (or "warning"), "error", "off".
[[nodiscard]] tl::expected<LogLevel, std::string> parse_log_level(std::string_view text);
std::string_view to_string(LogLevel level);

struct Field;

// A member's value given as JSON text, written as it is (the caller makes
// sure it is valid JSON): for the shapes Fields cannot build, such as arrays.
struct RawJson {
  std::string text;
};

// The members of a log line after ts, level and msg, in the order added. A
// value type: build one, pass it to a Log call. Keys should be unique: a
// repeated key is written twice (valid JSON, but readers keep one).
class Fields {
 public:
  Fields& add(std::string_view key, std::string_view value);
  Fields& add(std::string_view key, const char* value) { return add(key, std::string_view(value)); }
  Fields& add(std::string_view key, const std::string& value) {
    return add(key, std::string_view(value));
  }
  Fields& add(std::string_view key, bool value);
  Fields& add(std::string_view key, int value) { return add_signed(key, value); }
  Fields& add(std::string_view key, long value) { return add_signed(key, value); }
  Fields& add(std::string_view key, long long value) { return add_signed(key, value); }
  Fields& add(std::string_view key, unsigned value) { return add_unsigned(key, value); }
  Fields& add(std::string_view key, unsigned long value) { return add_unsigned(key, value); }
  Fields& add(std::string_view key, unsigned long long value) { return add_unsigned(key, value); }
  Fields& add(std::string_view key, double value);   // non-finite values are written as null
  Fields& add(std::string_view key, Fields nested);  // a nested object
  Fields& add(std::string_view key, RawJson json);
  Fields& append(const Fields& more);  // every member of `more`, in order

  bool empty() const;
  const std::vector<Field>& entries() const;

 private:
  Fields& add_signed(std::string_view key, std::int64_t value);
  Fields& add_unsigned(std::string_view key, std::uint64_t value);

  std::vector<Field> fields_;
};

struct Field {
  std::string key;
  std::variant<std::string, bool, std::int64_t, std::uint64_t, double, Fields, RawJson> value;
};

// The fields of the per-object line: bucket, key, size, format, status,
// records, written, rejected, duplicates, conflicts, faults, reasons{code:count}
// (codes with a nonzero count), retries, duration_ms, records_per_s (records
// read by this run, resumed ones excluded), mb_per_s (object bytes read, 10^6
// per MB), resumed_from and outcome (the job's: completed, failed, missing...);
// when something went wrong: error (one line), error_stage, error_code (the
// AWS error code behind it), ledger_errors, checkpoint_failures.
[[nodiscard]] Fields object_fields(const pipeline::JobResult& result, std::string_view bucket,
                                   std::string_view key, double duration_s);

class Log {
 public:
  // Lines to stderr, or to stdout (which AWS Lambda sends to CloudWatch Logs).
  enum class Stream { stderr_lines, stdout_lines };
  explicit Log(LogLevel level = LogLevel::info, Stream stream = Stream::stderr_lines);
  // Lines to `out`, which must outlive the Log.
  Log(std::ostream& out, LogLevel level);
  ~Log();
  Log(Log&&) noexcept;
  Log& operator=(Log&&) noexcept;

  bool enabled(LogLevel level) const;
  void set_level(LogLevel level);

  // Thread-safe; a line is written whole or not at all. Text that is not
  // UTF-8 is written with U+FFFD in place of the bad bytes, so every line
  // stays valid JSON.
  void write(LogLevel level, std::string_view msg, const Fields& fields = {});
  void debug(std::string_view msg, const Fields& fields = {}) {
    write(LogLevel::debug, msg, fields);
  }
  void info(std::string_view msg, const Fields& fields = {}) { write(LogLevel::info, msg, fields); }
  void warn(std::string_view msg, const Fields& fields = {}) { write(LogLevel::warn, msg, fields); }
  void error(std::string_view msg, const Fields& fields = {}) {
    write(LogLevel::error, msg, fields);
  }

  // "object finished" with object_fields: info when completed, error when
  // failed, warn otherwise (interrupted, lease lost, gone while read).
  // `extra` members follow the object's.
  void log_object(const pipeline::JobResult& result, std::string_view bucket, std::string_view key,
                  double duration_s, const Fields& extra = {});

 private:
  std::shared_ptr<spdlog::logger> logger_;
};

// One line without its newline, for the given time (milliseconds since the
// epoch); what Log::write writes.
std::string format_log_line(std::int64_t unix_ms, LogLevel level, std::string_view msg,
                            const Fields& fields);

}  // namespace salesflow::app
