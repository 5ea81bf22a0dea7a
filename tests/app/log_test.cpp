#include "app/log.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <simdjson.h>

#include <cmath>
#include <limits>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "app/observe.hpp"
#include "core/item_json.hpp"
#include "job_results.hpp"

namespace salesflow::app {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) lines.push_back(line);
  return lines;
}

// YYYY-MM-DDTHH:MM:SS.mmmZ
bool is_iso8601_utc_ms(std::string_view ts) {
  constexpr std::string_view shape = "0000-00-00T00:00:00.000Z";
  if (ts.size() != shape.size()) return false;
  for (std::size_t i = 0; i < ts.size(); ++i) {
    const bool digit = ts[i] >= '0' && ts[i] <= '9';
    if (shape[i] == '0' ? !digit : ts[i] != shape[i]) return false;
  }
  return true;
}

// Parses one line; the document lives in `parser`.
simdjson::dom::object parse_line(simdjson::dom::parser& parser, const std::string& line) {
  simdjson::dom::object object;
  const auto error = parser.parse(line).get_object().get(object);
  EXPECT_EQ(error, simdjson::SUCCESS) << "not a JSON object: " << line;
  return object;
}

std::string string_at(simdjson::dom::object object, std::string_view pointer) {
  std::string_view value;
  const auto error = object.at_pointer(pointer).get_string().get(value);
  EXPECT_EQ(error, simdjson::SUCCESS) << pointer;
  return std::string(value);
}

TEST(Log, OneJsonObjectPerLineWithTsLevelMsgAndFields) {
  std::ostringstream out;
  Log log(out, LogLevel::info);
  log.info("object started",
           Fields().add("bucket", "b").add("size", 12).add("ratio", 0.5).add("resumed", false));
  log.warn("second line");
  const auto lines = lines_of(out.str());
  ASSERT_EQ(lines.size(), 2u);
  simdjson::dom::parser parser;
  auto first = parse_line(parser, lines[0]);
  EXPECT_TRUE(is_iso8601_utc_ms(string_at(first, "/ts"))) << string_at(first, "/ts");
  EXPECT_EQ(string_at(first, "/level"), "info");
  EXPECT_EQ(string_at(first, "/msg"), "object started");
  EXPECT_EQ(string_at(first, "/bucket"), "b");
  EXPECT_EQ(int64_t(first["size"]), 12);
  EXPECT_EQ(double(first["ratio"]), 0.5);
  EXPECT_EQ(bool(first["resumed"]), false);
  // ts, level and msg come first, then the fields in the order added.
  std::vector<std::string> keys;
  for (const auto field : first) keys.emplace_back(field.key);
  EXPECT_THAT(keys, ElementsAre("ts", "level", "msg", "bucket", "size", "ratio", "resumed"));
  auto second = parse_line(parser, lines[1]);
  EXPECT_EQ(string_at(second, "/level"), "warn");
}

TEST(Log, LevelsBelowTheThresholdAreNotWritten) {
  std::ostringstream out;
  Log log(out, LogLevel::warn);
  log.debug("d");
  log.info("i");
  log.warn("w");
  log.error("e");
  EXPECT_FALSE(log.enabled(LogLevel::info));
  EXPECT_TRUE(log.enabled(LogLevel::error));
  const auto lines = lines_of(out.str());
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_THAT(lines[0], HasSubstr(R"("level":"warn","msg":"w")"));
  EXPECT_THAT(lines[1], HasSubstr(R"("level":"error","msg":"e")"));

  log.set_level(LogLevel::debug);
  log.debug("now shown");
  EXPECT_THAT(out.str(), HasSubstr(R"("level":"debug","msg":"now shown")"));

  log.set_level(LogLevel::off);
  log.error("never");
  EXPECT_THAT(out.str(), Not(HasSubstr("never")));
}

TEST(Log, EscapesQuotesBackslashesAndControlCharacters) {
  std::ostringstream out;
  Log log(out, LogLevel::info);
  const std::string nasty = std::string("a\"b\\c\nd\te\x01") + '\0' + "f\x7F";
  log.info(nasty, Fields().add(nasty, nasty).add("key", "sales/\"q\"/{x}.json"));
  const auto lines = lines_of(out.str());
  ASSERT_EQ(lines.size(), 1u);  // the newline in the text did not split the line
  EXPECT_THAT(lines[0], HasSubstr(R"(a\"b\\c\nd\te\u0001\u0000f)"));
  simdjson::dom::parser parser;
  auto line = parse_line(parser, lines[0]);
  EXPECT_EQ(string_at(line, "/msg"), nasty);
  std::string_view value;
  ASSERT_EQ(line.at_key(nasty).get_string().get(value), simdjson::SUCCESS);
  EXPECT_EQ(value, nasty);
  EXPECT_EQ(string_at(line, "/key"), "sales/\"q\"/{x}.json");
}

TEST(Log, UnicodeIsKeptAndInvalidUtf8Replaced) {
  std::ostringstream out;
  Log log(out, LogLevel::info);
  log.info("été 日本 📈", Fields().add("bad", std::string("a\xFF\xC3(b\xED\xA0\x80")));
  simdjson::dom::parser parser;
  auto line = parse_line(parser, lines_of(out.str()).at(0));
  EXPECT_EQ(string_at(line, "/msg"), "été 日本 📈");
  EXPECT_EQ(string_at(line, "/bad"), "a\uFFFD\uFFFD(b\uFFFD\uFFFD\uFFFD");
}

TEST(Log, NestedObjectsIntegersAndNonFiniteDoubles) {
  const std::string line =
      format_log_line(0, LogLevel::error, "m",
                      Fields()
                          .add("reasons", Fields().add("missing", 3).add("wrong_type", 1))
                          .add("empty", Fields())
                          .add("big", std::numeric_limits<std::uint64_t>::max())
                          .add("negative", -5)
                          .add("nan", std::nan(""))
                          .add("inf", std::numeric_limits<double>::infinity()));
  EXPECT_EQ(line, R"({"ts":"1970-01-01T00:00:00.000Z","level":"error","msg":"m",)"
                  R"("reasons":{"missing":3,"wrong_type":1},"empty":{},"big":18446744073709551615,)"
                  R"("negative":-5,"nan":null,"inf":null})");
}

TEST(Log, TimestampIsUtcWithMilliseconds) {
  EXPECT_THAT(format_log_line(1710408413589, LogLevel::info, "m", {}),
              HasSubstr(R"("ts":"2024-03-14T09:26:53.589Z")"));
  EXPECT_THAT(format_log_line(951782400007, LogLevel::info, "m", {}),
              HasSubstr(R"("ts":"2000-02-29T00:00:00.007Z")"));
}

TEST(Log, ConcurrentWritersNeverInterleaveLines) {
  std::ostringstream out;
  Log log(out, LogLevel::info);
  constexpr int kThreads = 4;
  constexpr int kLines = 500;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kLines; ++i) {
        log.info("line", Fields().add("thread", t).add("i", i).add("pad", std::string(200, 'x')));
      }
    });
  }
  for (auto& thread : threads) thread.join();
  const auto lines = lines_of(out.str());
  ASSERT_EQ(lines.size(), std::size_t{kThreads * kLines});
  simdjson::dom::parser parser;
  for (const auto& line : lines) parse_line(parser, line);
}

TEST(LogLevel, ParsesTheCommandLineNames) {
  EXPECT_EQ(parse_log_level("trace").value(), LogLevel::trace);
  EXPECT_EQ(parse_log_level("debug").value(), LogLevel::debug);
  EXPECT_EQ(parse_log_level("info").value(), LogLevel::info);
  EXPECT_EQ(parse_log_level("warn").value(), LogLevel::warn);
  EXPECT_EQ(parse_log_level("warning").value(), LogLevel::warn);
  EXPECT_EQ(parse_log_level("error").value(), LogLevel::error);
  EXPECT_EQ(parse_log_level("off").value(), LogLevel::off);
  EXPECT_EQ(parse_log_level("INFO").error(),
            "unknown log level \"INFO\" (expected trace, debug, info, warn, error or off)");
  EXPECT_FALSE(parse_log_level("").has_value());
}

pipeline::JobResult sample_result() {
  pipeline::JobResult result;
  result.outcome = pipeline::JobOutcome::completed;
  result.size = 2'000'000;
  pipeline::ObjectReport& report = result.report;
  report.status = pipeline::ObjectStatus::completed;
  report.format = core::InputFormat::json_lines;
  report.tally.records = 1000;
  report.tally.valid = 900;
  report.tally.rejected = 90;
  report.tally.duplicates = 10;
  report.tally.by_reason[static_cast<std::size_t>(core::ReasonCode::missing)] = 60;
  report.tally.by_reason[static_cast<std::size_t>(core::ReasonCode::invalid_number)] = 40;
  report.conflicts = 2;
  report.written = 898;
  report.rejected = 92;
  report.faults = 1;
  report.raw_bytes = 2'000'000;
  report.resumed_from = 200;
  report.retries = 3;
  report.requests_in_flight_limit = 21;
  report.highest_requests_in_flight_limit = 34;
  return result;
}

aws::AwsError access_denied() {
  return aws::AwsError{.service = "s3",
                       .operation = "GetObject",
                       .http_status = 403,
                       .code = "AccessDenied",
                       .message = "Access Denied",
                       .request_id = "R1",
                       .retryable = false,
                       .attempts = 1};
}

TEST(LogObject, CompletedObjectLine) {
  std::ostringstream out;
  Log log(out, LogLevel::info);
  log.log_object(sample_result(), "salesflow-incoming", "in coming/\"é\".jsonl", 0.5);
  const auto lines = lines_of(out.str());
  ASSERT_EQ(lines.size(), 1u);
  simdjson::dom::parser parser;
  auto line = parse_line(parser, lines[0]);
  EXPECT_EQ(string_at(line, "/level"), "info");
  EXPECT_EQ(string_at(line, "/msg"), "object finished");
  EXPECT_EQ(string_at(line, "/bucket"), "salesflow-incoming");
  EXPECT_EQ(string_at(line, "/key"), "in coming/\"é\".jsonl");
  EXPECT_EQ(string_at(line, "/status"), "completed");
  EXPECT_EQ(string_at(line, "/outcome"), "completed");
  EXPECT_EQ(string_at(line, "/format"), core::to_string(core::InputFormat::json_lines));
  EXPECT_EQ(uint64_t(line["size"]), 2'000'000u);
  EXPECT_EQ(uint64_t(line["records"]), 1000u);
  EXPECT_EQ(uint64_t(line["written"]), 898u);
  EXPECT_EQ(uint64_t(line["rejected"]), 92u);
  EXPECT_EQ(uint64_t(line["duplicates"]), 10u);
  EXPECT_EQ(uint64_t(line["conflicts"]), 2u);
  EXPECT_EQ(uint64_t(line["faults"]), 1u);
  EXPECT_EQ(uint64_t(line["retries"]), 3u);
  EXPECT_EQ(int64_t(line["duration_ms"]), 500);
  EXPECT_EQ(double(line["records_per_s"]), 1600.0);  // 800 records past the resume point
  EXPECT_EQ(double(line["mb_per_s"]), 4.0);
  EXPECT_EQ(uint64_t(line["resumed_from"]), 200u);
  EXPECT_EQ(uint64_t(line["requests_limit"]), 21u);
  EXPECT_EQ(uint64_t(line["requests_limit_highest"]), 34u);
  EXPECT_EQ(uint64_t(line.at_pointer("/reasons/missing")), 60u);
  EXPECT_EQ(uint64_t(line.at_pointer("/reasons/invalid_number")), 40u);
  EXPECT_EQ(simdjson::dom::object(line["reasons"]).size(), 2u);  // zero counts left out
  EXPECT_EQ(line["error"].error(), simdjson::NO_SUCH_FIELD);
  EXPECT_EQ(line["ledger_errors"].error(), simdjson::NO_SUCH_FIELD);
  EXPECT_EQ(line["checkpoint_failures"].error(), simdjson::NO_SUCH_FIELD);
}

TEST(LogObject, FailedObjectIsAnErrorWithItsStageAndCode) {
  auto result = sample_result();
  result.outcome = pipeline::JobOutcome::failed;
  result.report.status = pipeline::ObjectStatus::failed;
  result.failure =
      pipeline::failure_from(pipeline::FailureStage::source, "reading the object", access_denied());
  std::ostringstream out;
  Log log(out, LogLevel::info);
  log.log_object(result, "b", "k", 0);
  simdjson::dom::parser parser;
  auto line = parse_line(parser, lines_of(out.str()).at(0));
  EXPECT_EQ(string_at(line, "/level"), "error");
  EXPECT_EQ(string_at(line, "/status"), "failed");
  EXPECT_EQ(string_at(line, "/outcome"), "failed");
  EXPECT_EQ(string_at(line, "/error_stage"), "source");
  EXPECT_EQ(string_at(line, "/error_code"), "AccessDenied");
  EXPECT_THAT(std::string(string_at(line, "/error")), HasSubstr("source: reading the object: "));
  EXPECT_THAT(std::string(string_at(line, "/error")), HasSubstr("AccessDenied"));
  EXPECT_EQ(double(line["records_per_s"]), 0.0);  // no duration: no rate, no division by zero
  EXPECT_EQ(double(line["mb_per_s"]), 0.0);
}

// A completed object whose checkpoints or closing ledger writes failed lost
// no record, but the line says what it cost, at warn.
TEST(LogObject, LedgerAndCheckpointFailuresAreWarningsWithTheirCost) {
  auto result = sample_result();
  result.report.checkpoint_failures = 2;
  result.report.checkpoint_error = access_denied();
  result.ledger_failures.push_back(pipeline::failure_from(
      pipeline::FailureStage::ledger, "releasing the lease (a retry waits until it expires)",
      access_denied()));
  std::ostringstream out;
  Log log(out, LogLevel::info);
  log.log_object(result, "b", "k", 1);
  simdjson::dom::parser parser;
  auto line = parse_line(parser, lines_of(out.str()).at(0));
  EXPECT_EQ(string_at(line, "/level"), "warn");
  EXPECT_EQ(string_at(line, "/status"), "completed");
  EXPECT_EQ(uint64_t(line["checkpoint_failures"]), 2u);
  EXPECT_THAT(std::string(string_at(line, "/checkpoint_error")), HasSubstr("AccessDenied"));
  EXPECT_THAT(std::string(string_at(line, "/ledger_errors")),
              HasSubstr("ledger: releasing the lease (a retry waits until it expires)"));
}

TEST(LogObject, InterruptedAndLeaseLostAreWarnings) {
  for (const auto& [status, outcome] :
       {std::pair{pipeline::ObjectStatus::interrupted, pipeline::JobOutcome::interrupted},
        std::pair{pipeline::ObjectStatus::lease_lost, pipeline::JobOutcome::lease_lost}}) {
    auto result = sample_result();
    result.report.status = status;
    result.outcome = outcome;
    std::ostringstream out;
    Log log(out, LogLevel::warn);
    log.log_object(result, "b", "k", 1);
    EXPECT_THAT(out.str(), HasSubstr(R"("level":"warn","msg":"object finished")"));
    EXPECT_THAT(out.str(), HasSubstr(std::string(R"("status":")") +
                                     std::string(pipeline::to_string(status)) + "\""));
  }
  std::ostringstream quiet;
  Log log(quiet, LogLevel::error);
  log.log_object(sample_result(), "b", "k", 1);
  EXPECT_EQ(quiet.str(), "");
}

// ---- the observer over it (app/observe.hpp)

using test::kObject;
using test::settled;

TEST(LogObserver, NotesKeepTheirSeverity) {
  std::ostringstream out;
  Log log(out, LogLevel::info);
  LogObserver observer(log);
  observer.note(pipeline::Severity::debug, "hidden at info");
  observer.note(pipeline::Severity::warn, "a warning");
  observer.note(pipeline::Severity::error, "an error");
  const std::string text = out.str();
  EXPECT_THAT(text, Not(HasSubstr("hidden at info")));
  EXPECT_THAT(text, HasSubstr(R"("level":"warn","msg":"a warning")"));
  EXPECT_THAT(text, HasSubstr(R"("level":"error","msg":"an error")"));
}

TEST(LogObserver, FinishedObjectsAreOneLineEachSkipsSaySo) {
  std::ostringstream out;
  Log log(out, LogLevel::info);
  LogObserver observer(log);
  observer.object_finished(kObject, settled(pipeline::JobOutcome::held, "leased by w-2"));
  pipeline::JobResult done = settled(pipeline::JobOutcome::completed, "");
  done.report.tally.records = 2;
  observer.object_finished(kObject, done);
  const std::string text = out.str();
  EXPECT_THAT(
      text,
      HasSubstr(
          R"("msg":"object skipped","bucket":"sales","key":"in/day.jsonl","reason":"leased by w-2")"));
  EXPECT_THAT(text, HasSubstr(R"("outcome":"completed")"));
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 2);
}

TEST(LogObserver, RetriesAndCheckpointsAreDebugLines) {
  std::ostringstream out;
  Log log(out, LogLevel::info);
  LogObserver observer(log);
  const aws::AwsError throttled{.service = "dynamodb",
                                .operation = "BatchWriteItem",
                                .http_status = 400,
                                .code = "ThrottlingException",
                                .message = "slow down",
                                .request_id = {},
                                .retryable = true,
                                .attempts = 1};
  const aws::RetryRecord retry{"dynamodb", "BatchWriteItem", 1, throttled,
                               std::chrono::milliseconds(40)};
  observer.on_retry(retry);
  observer.checkpoint_saved(kObject, pipeline::Checkpoint{500, 4096, 0},
                            pipeline::LeaseState::held);
  EXPECT_EQ(out.str(), "");
  log.set_level(LogLevel::debug);
  observer.on_retry(retry);
  observer.checkpoint_saved(kObject, pipeline::Checkpoint{500, 4096, 0},
                            tl::make_unexpected(throttled));
  const std::string text = out.str();
  EXPECT_THAT(text, HasSubstr(R"("msg":"retrying an AWS request")"));
  EXPECT_THAT(text, HasSubstr(R"("error_code":"ThrottlingException","delay_ms":40)"));
  EXPECT_THAT(text, HasSubstr(R"("msg":"checkpoint not saved")"));
  EXPECT_THAT(text, HasSubstr(R"("next_index":500)"));
}

}  // namespace
}  // namespace salesflow::app
