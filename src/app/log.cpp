#include "app/log.hpp"

#include <fmt/format.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <spdlog/logger.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/sinks/stdout_sinks.h>

#include <chrono>
#include <cmath>

#include "base/time.hpp"
#include "base/utf8.hpp"
#include "core/object_validator.hpp"
#include "core/record.hpp"

namespace salesflow::app {
namespace {

using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

spdlog::level::level_enum spdlog_level(LogLevel level) {
  switch (level) {
    case LogLevel::trace:
      return spdlog::level::trace;
    case LogLevel::debug:
      return spdlog::level::debug;
    case LogLevel::info:
      return spdlog::level::info;
    case LogLevel::warn:
      return spdlog::level::warn;
    case LogLevel::error:
      return spdlog::level::err;
    case LogLevel::off:
      return spdlog::level::off;
  }
  return spdlog::level::info;
}

void write_string(JsonWriter& writer, std::string_view text) {
  const std::string valid = base::to_valid_utf8(text);
  writer.String(valid.data(), static_cast<rapidjson::SizeType>(valid.size()), true);
}

void write_key(JsonWriter& writer, std::string_view key) {
  const std::string valid = base::to_valid_utf8(key);
  writer.Key(valid.data(), static_cast<rapidjson::SizeType>(valid.size()), true);
}

void write_fields(JsonWriter& writer, const Fields& fields) {
  for (const Field& field : fields.entries()) {
    write_key(writer, field.key);
    std::visit(
        [&](const auto& value) {
          using T = std::decay_t<decltype(value)>;
          if constexpr (std::is_same_v<T, std::string>) {
            write_string(writer, value);
          } else if constexpr (std::is_same_v<T, bool>) {
            writer.Bool(value);
          } else if constexpr (std::is_same_v<T, std::int64_t>) {
            writer.Int64(value);
          } else if constexpr (std::is_same_v<T, std::uint64_t>) {
            writer.Uint64(value);
          } else if constexpr (std::is_same_v<T, double>) {
            if (std::isfinite(value)) {
              writer.Double(value);
            } else {
              writer.Null();  // JSON has no NaN or infinity
            }
          } else if constexpr (std::is_same_v<T, RawJson>) {
            writer.RawValue(value.text.data(), value.text.size(), rapidjson::kObjectType);
          } else {
            writer.StartObject();
            write_fields(writer, value);
            writer.EndObject();
          }
        },
        field.value);
  }
}

}  // namespace

tl::expected<LogLevel, std::string> parse_log_level(std::string_view text) {
  if (text == "trace") return LogLevel::trace;
  if (text == "debug") return LogLevel::debug;
  if (text == "info") return LogLevel::info;
  if (text == "warn" || text == "warning") return LogLevel::warn;
  if (text == "error") return LogLevel::error;
  if (text == "off") return LogLevel::off;
  return tl::unexpected(fmt::format(
      "unknown log level \"{}\" (expected trace, debug, info, warn, error or off)", text));
}

std::string_view to_string(LogLevel level) {
  switch (level) {
    case LogLevel::trace:
      return "trace";
    case LogLevel::debug:
      return "debug";
    case LogLevel::info:
      return "info";
    case LogLevel::warn:
      return "warn";
    case LogLevel::error:
      return "error";
    case LogLevel::off:
      return "off";
  }
  return "info";
}

Fields& Fields::add(std::string_view key, std::string_view value) {
  fields_.push_back(Field{std::string(key), std::string(value)});
  return *this;
}

Fields& Fields::add(std::string_view key, bool value) {
  fields_.push_back(Field{std::string(key), value});
  return *this;
}

Fields& Fields::add_signed(std::string_view key, std::int64_t value) {
  fields_.push_back(Field{std::string(key), value});
  return *this;
}

Fields& Fields::add_unsigned(std::string_view key, std::uint64_t value) {
  fields_.push_back(Field{std::string(key), value});
  return *this;
}

Fields& Fields::add(std::string_view key, double value) {
  fields_.push_back(Field{std::string(key), value});
  return *this;
}

Fields& Fields::add(std::string_view key, Fields nested) {
  fields_.push_back(Field{std::string(key), std::move(nested)});
  return *this;
}

Fields& Fields::add(std::string_view key, RawJson json) {
  fields_.push_back(Field{std::string(key), std::move(json)});
  return *this;
}

Fields& Fields::append(const Fields& more) {
  fields_.insert(fields_.end(), more.fields_.begin(), more.fields_.end());
  return *this;
}

bool Fields::empty() const {
  return fields_.empty();
}
const std::vector<Field>& Fields::entries() const {
  return fields_;
}

std::string format_log_line(std::int64_t unix_ms, LogLevel level, std::string_view msg,
                            const Fields& fields) {
  rapidjson::StringBuffer buffer;
  JsonWriter writer(buffer);
  writer.StartObject();
  writer.Key("ts");
  write_string(writer, base::iso8601_utc_ms(unix_ms));
  writer.Key("level");
  write_string(writer, to_string(level));
  writer.Key("msg");
  write_string(writer, msg);
  write_fields(writer, fields);
  writer.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

Fields object_fields(const pipeline::JobResult& result, std::string_view bucket,
                     std::string_view key, double duration_s) {
  const pipeline::ObjectReport& report = result.report;
  Fields reasons;
  for (std::size_t code = 0; code < core::kReasonCodeCount; ++code) {
    if (report.tally.by_reason[code] > 0) {
      reasons.add(core::to_string(static_cast<core::ReasonCode>(code)),
                  report.tally.by_reason[code]);
    }
  }
  // Rates are of this run's work: a resumed object re-reads its durable
  // prefix, but only the records past it were processed now.
  const std::uint64_t records_this_run =
      report.tally.records > report.resumed_from ? report.tally.records - report.resumed_from : 0;
  const double records_per_s =
      duration_s > 0 ? static_cast<double>(records_this_run) / duration_s : 0.0;
  const double mb_per_s =
      duration_s > 0 ? static_cast<double>(report.raw_bytes) / 1e6 / duration_s : 0.0;

  Fields fields;
  fields.add("bucket", bucket)
      .add("key", key)
      .add("size", result.size)
      .add("format", core::to_string(report.format))
      .add("status", pipeline::to_string(report.status))
      .add("records", report.tally.records)
      .add("written", report.written)
      .add("rejected", report.rejected)
      .add("duplicates", report.tally.duplicates)
      .add("conflicts", report.conflicts)
      .add("faults", report.faults)
      .add("reasons", std::move(reasons))
      .add("retries", report.retries)
      .add("duration_ms", std::llround(duration_s * 1000))
      .add("records_per_s", std::round(records_per_s * 10) / 10)
      .add("mb_per_s", std::round(mb_per_s * 1000) / 1000)
      .add("resumed_from", report.resumed_from)
      .add("requests_limit", report.requests_in_flight_limit)
      .add("requests_limit_highest", report.highest_requests_in_flight_limit)
      .add("outcome", pipeline::to_string(result.outcome));
  if (result.failure) {
    fields.add("error", result.failure->to_string())
        .add("error_stage", pipeline::to_string(result.failure->stage));
    if (result.failure->cause) {
      fields.add("error_code", result.failure->cause->code);
    }
  }
  if (!result.ledger_failures.empty()) {
    std::string ledger_errors;
    for (const auto& failure : result.ledger_failures) {
      ledger_errors += (ledger_errors.empty() ? "" : "; ") + failure.to_string();
    }
    fields.add("ledger_errors", ledger_errors);
  }
  if (report.checkpoint_failures > 0) {
    fields.add("checkpoint_failures", report.checkpoint_failures);
    if (report.checkpoint_error) {
      fields.add("checkpoint_error", report.checkpoint_error->to_string());
    }
  }
  return fields;
}

Log::Log(LogLevel level, Stream stream)
    : logger_(std::make_shared<spdlog::logger>(
          "salesflow", stream == Stream::stdout_lines
                           ? spdlog::sink_ptr(std::make_shared<spdlog::sinks::stdout_sink_mt>())
                           : spdlog::sink_ptr(std::make_shared<spdlog::sinks::stderr_sink_mt>()))) {
  logger_->set_pattern("%v");  // the line is complete JSON already
  set_level(level);
}

Log::Log(std::ostream& out, LogLevel level)
    : logger_(std::make_shared<spdlog::logger>(
          "salesflow", std::make_shared<spdlog::sinks::ostream_sink_mt>(out, true))) {
  logger_->set_pattern("%v");
  set_level(level);
}

Log::~Log() = default;
Log::Log(Log&&) noexcept = default;
Log& Log::operator=(Log&&) noexcept = default;

bool Log::enabled(LogLevel level) const {
  return logger_ != nullptr && level != LogLevel::off && logger_->should_log(spdlog_level(level));
}

void Log::set_level(LogLevel level) {
  logger_->set_level(spdlog_level(level));
}

void Log::write(LogLevel level, std::string_view msg, const Fields& fields) {
  if (!enabled(level)) return;
  const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  const std::string line = format_log_line(now, level, msg, fields);
  logger_->log(spdlog_level(level), spdlog::string_view_t(line.data(), line.size()));
}

void Log::log_object(const pipeline::JobResult& result, std::string_view bucket,
                     std::string_view key, double duration_s, const Fields& extra) {
  LogLevel level = LogLevel::warn;
  if (result.outcome == pipeline::JobOutcome::completed && result.ledger_failures.empty() &&
      result.report.checkpoint_failures == 0) {
    level = LogLevel::info;
  } else if (result.outcome == pipeline::JobOutcome::failed) {
    level = LogLevel::error;
  }
  if (!enabled(level)) return;
  write(level, "object finished", object_fields(result, bucket, key, duration_s).append(extra));
}

}  // namespace salesflow::app
