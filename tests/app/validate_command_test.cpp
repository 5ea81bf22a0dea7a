// `salesflow validate`, run as a real process on real files.

#include <gtest/gtest.h>
#include <simdjson.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "temp_dir.hpp"

namespace {

namespace fs = std::filesystem;

struct Outcome {
  int status = -1;
  std::string out;
};

Outcome run(const std::string& args) {
  const std::string command = std::string(SALESFLOW_BINARY_PATH) + " " + args + " 2>/dev/null";
  Outcome outcome;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) {
    return outcome;
  }
  std::array<char, 4096> buffer{};
  while (const std::size_t n = std::fread(buffer.data(), 1, buffer.size(), pipe)) {
    outcome.out.append(buffer.data(), n);
  }
  const int raw = ::pclose(pipe);
  outcome.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  return outcome;
}

class ValidateCommand : public salesflow::app::test::TempDirTest {
 protected:
  std::string write(const std::string& name, const std::string& content) {
    const fs::path path = dir_ / name;
    std::ofstream(path, std::ios::binary) << content;
    return "'" + path.string() + "'";
  }
};

const std::string kGood =
    R"({"order-info":{"OrderId":"A1","qty":"2"},"contact-info":{"email":"a@example.com"}})";
const std::string kNoContact = R"({"order-info":{"OrderId":"A2"}})";

TEST_F(ValidateCommand, AllValidExitsZero) {
  const auto file = write("good.jsonl", kGood + "\n" + kGood + "\n");
  const Outcome outcome = run("validate --json " + file);
  EXPECT_EQ(outcome.status, 0) << outcome.out;
  simdjson::dom::parser parser;
  const auto doc = parser.parse(outcome.out);
  const auto f = doc["files"].at(0);
  EXPECT_EQ(uint64_t(f["records"]), 2U);
  EXPECT_EQ(uint64_t(f["valid"]), 1U);
  EXPECT_EQ(uint64_t(f["duplicates"]), 1U);
  EXPECT_EQ(uint64_t(f["rejected"]), 0U);
}

// Reading and settling run on two threads, handing records over in batches
// of a few thousand: repeats, key clashes and rejects far apart and across
// those hand-overs are counted exactly, and the first rejects are the file's
// first ones, with their lines.
TEST_F(ValidateCommand, CountsAreExactAcrossManyHandOversBetweenItsThreads) {
  std::string content;
  std::uint64_t valid = 0;
  std::uint64_t duplicates = 0;
  std::uint64_t missing = 0;
  std::uint64_t clashes = 0;
  constexpr int kRecords = 50000;
  const auto good = [](int n) {
    return R"({"order-info":{"OrderId":"K)" + std::to_string(n) +
           R"("},"contact-info":{"email":"a@example.com"}})";
  };
  for (int i = 0; i < kRecords; ++i) {
    if (i % 10 == 9) {
      // A repeat thousands of records (and hand-overs) back, of a written one.
      content += good(i >= 7003 ? i - 7003 : i) + "\n";
      (i >= 7003 ? duplicates : valid) += 1;
    } else if (i % 10 == 8 && i > 9000) {
      // A clash: an earlier key with other content.
      content += R"({"order-info":{"OrderId":"K)" + std::to_string(i - 9002) +
                 R"(","qty":"1"},"contact-info":{"email":"b@example.com"}})" + "\n";
      ++clashes;
    } else if (i % 10 == 7) {
      content += R"({"order-info":{"OrderId":"M)" + std::to_string(i) + R"("}})" + "\n";
      ++missing;
    } else {
      content += good(i) + "\n";
      ++valid;
    }
  }
  const auto file = write("many.jsonl", content);
  const Outcome outcome = run("validate --json " + file);
  EXPECT_EQ(outcome.status, 1);
  simdjson::dom::parser parser;
  const auto f = parser.parse(outcome.out)["files"].at(0);
  EXPECT_EQ(uint64_t(f["records"]), std::uint64_t{kRecords});
  EXPECT_EQ(uint64_t(f["valid"]), valid);
  EXPECT_EQ(uint64_t(f["duplicates"]), duplicates);
  EXPECT_EQ(uint64_t(f["rejected"]), missing + clashes);
  EXPECT_EQ(uint64_t(f["reasons"]["missing"]), missing);
  EXPECT_EQ(uint64_t(f["reasons"]["duplicate_key"]), clashes);
  const Outcome human = run("validate " + file);
  EXPECT_NE(human.out.find("record 7 (line 8, byte "), std::string::npos) << human.out;
}

TEST_F(ValidateCommand, RejectsExitOneWithCountsPerReason) {
  const auto file = write("mixed.json", "[" + kGood + "," + kNoContact + ",42]");
  const Outcome outcome = run("validate --json " + file);
  EXPECT_EQ(outcome.status, 1);
  simdjson::dom::parser parser;
  const auto f = parser.parse(outcome.out)["files"].at(0);
  EXPECT_EQ(std::string_view(f["format"]), "array");
  EXPECT_EQ(uint64_t(f["records"]), 3U);
  EXPECT_EQ(uint64_t(f["valid"]), 1U);
  EXPECT_EQ(uint64_t(f["rejected"]), 2U);
  EXPECT_EQ(uint64_t(f["reasons"]["missing"]), 1U);
  EXPECT_EQ(uint64_t(f["reasons"]["wrong_type"]), 1U);
}

TEST_F(ValidateCommand, HumanReportShowsLocationAndReasons) {
  const auto file = write("lines.jsonl", kGood + "\r\n\r\n" + kNoContact + "\r\n");
  const Outcome outcome = run("validate " + file);
  EXPECT_EQ(outcome.status, 1);
  EXPECT_NE(outcome.out.find("record 1 (line 3"), std::string::npos) << outcome.out;
  EXPECT_NE(outcome.out.find("missing /contact-info"), std::string::npos) << outcome.out;
}

TEST_F(ValidateCommand, GzipIsDetectedFromContent) {
  const std::string text = kGood + "\n" + kNoContact + "\n";
  std::string compressed(compressBound(text.size()) + 32, '\0');
  z_stream z{};
  deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  z.avail_in = static_cast<uInt>(text.size());
  z.next_out = reinterpret_cast<Bytef*>(compressed.data());
  z.avail_out = static_cast<uInt>(compressed.size());
  deflate(&z, Z_FINISH);
  compressed.resize(z.total_out);
  deflateEnd(&z);
  const auto file = write("no-extension", compressed);
  const Outcome outcome = run("validate --json " + file);
  EXPECT_EQ(outcome.status, 1);
  simdjson::dom::parser parser;
  const auto f = parser.parse(outcome.out)["files"].at(0);
  EXPECT_TRUE(bool(f["gzip"]));
  EXPECT_EQ(uint64_t(f["records"]), 2U);
}

TEST_F(ValidateCommand, UnreadableFilesExitTwo) {
  EXPECT_EQ(run("validate " + (dir_ / "missing.json").string()).status, 2);
  EXPECT_EQ(run("validate " + dir_.string()).status, 2);
  if (::geteuid() != 0) {  // root reads everything
    const auto file = write("secret.json", kGood);
    ::chmod((dir_ / "secret.json").c_str(), 0);
    EXPECT_EQ(run("validate " + file).status, 2);
  }
}

TEST_F(ValidateCommand, UsageErrorsExitTwo) {
  EXPECT_EQ(run("validate").status, 2);
  EXPECT_EQ(run("validate --format xml " + write("a.json", kGood)).status, 2);
  EXPECT_EQ(run("no-such-command").status, 2);
}

TEST_F(ValidateCommand, SettingsFileIsReadAndMisspeltKeysAreErrors) {
  const auto data = write("array.json", "[\n" + kGood + "\n]\n");
  const auto settings = write("good.toml", "format = \"jsonl\"\n[worker]\nobjects = 2\n");
  const Outcome forced = run("--config " + settings + " validate --json " + data);
  EXPECT_EQ(forced.status, 1) << "format = jsonl from the file turns the array into bad lines";
  const auto misspelt = write("bad.toml", "fromat = \"jsonl\"\n");
  EXPECT_EQ(run("--config " + misspelt + " validate " + data).status, 2);
}

TEST_F(ValidateCommand, FormatOverrideWins) {
  // An array forced to be read as JSON Lines: one malformed line per line.
  const auto file = write("array.json", "[\n" + kGood + "\n]\n");
  const Outcome outcome = run("validate --json --format jsonl " + file);
  EXPECT_EQ(outcome.status, 1);
  simdjson::dom::parser parser;
  const auto f = parser.parse(outcome.out)["files"].at(0);
  EXPECT_EQ(uint64_t(f["records"]), 3U);
  EXPECT_EQ(uint64_t(f["reasons"]["malformed_json"]), 2U);
}

// `jq .` itself pretty-prints the records, one document after another.
TEST_F(ValidateCommand, JqPrettyPrintedFileIsReadAsConcatenatedDocuments) {
  std::string lines;
  for (int i = 0; i < 5; ++i) {
    lines += R"({"order-info":{"OrderId":"P)" + std::to_string(i) +
             R"("},"contact-info":{"email":"p@example.com"}})" + "\n";
  }
  lines += kNoContact + "\n";
  const auto source = write("orders.jsonl", lines);
  const std::string pretty_path = (dir_ / "orders.json").string();
  ASSERT_EQ(std::system(("jq . " + source + " > '" + pretty_path + "'").c_str()), 0);
  const Outcome outcome = run("validate --json '" + pretty_path + "'");
  EXPECT_EQ(outcome.status, 1) << outcome.out;
  simdjson::dom::parser parser;
  const auto f = parser.parse(outcome.out)["files"].at(0);
  EXPECT_EQ(std::string_view(f["format"]), "concatenated");
  EXPECT_EQ(uint64_t(f["records"]), 6U);
  EXPECT_EQ(uint64_t(f["valid"]), 5U);
  EXPECT_EQ(uint64_t(f["rejected"]), 1U);
  EXPECT_EQ(uint64_t(f["reasons"]["missing"]), 1U);
  EXPECT_EQ(uint64_t(f["file_faults"]), 0U);
  // jq writes 8 lines per record here: the rejected sixth starts on line 41.
  const Outcome human = run("validate '" + pretty_path + "'");
  EXPECT_NE(human.out.find("concatenated"), std::string::npos) << human.out;
  EXPECT_NE(human.out.find("record 5 (line 41,"), std::string::npos) << human.out;
}

TEST_F(ValidateCommand, DamagedDocumentInAJqFileCostsOnlyItself) {
  std::string pretty;
  for (int i = 0; i < 4; ++i) {
    pretty += "{\n  \"order-info\": {\n    \"OrderId\": \"D" + std::to_string(i) +
              "\"\n  },\n  \"contact-info\": {\n    \"email\": \"d@example.com\"\n  }\n}\n";
    if (i == 1) pretty += "{\n  \"order-info\": {\n    \"OrderId\": \"cut\n";
  }
  const auto file = write("damaged.json", pretty);
  const Outcome outcome = run("validate --json " + file);
  EXPECT_EQ(outcome.status, 1) << outcome.out;
  simdjson::dom::parser parser;
  const auto f = parser.parse(outcome.out)["files"].at(0);
  EXPECT_EQ(std::string_view(f["format"]), "concatenated");
  EXPECT_EQ(uint64_t(f["records"]), 4U);
  EXPECT_EQ(uint64_t(f["valid"]), 4U);
  EXPECT_EQ(uint64_t(f["file_faults"]), 1U);
}

TEST_F(ValidateCommand, FormatConcatenatedCanBeForced) {
  const auto file = write("lines.jsonl", kGood + "\n" + kNoContact + "\n");
  const Outcome outcome = run("validate --json --format concatenated " + file);
  EXPECT_EQ(outcome.status, 1);
  simdjson::dom::parser parser;
  const auto f = parser.parse(outcome.out)["files"].at(0);
  EXPECT_EQ(std::string_view(f["format"]), "concatenated");
  EXPECT_EQ(uint64_t(f["records"]), 2U);
  EXPECT_EQ(run("validate --format concatenate " + file).status, 2);
}

TEST_F(ValidateCommand, RulesFileErrorsNameTheLine) {
  const auto rules = write("rules.toml", "[[field]]\npath = 42\n");
  const std::string command = std::string(SALESFLOW_BINARY_PATH) + " --rules " + rules +
                              " validate " + write("a.json", kGood) + " 2>&1";
  FILE* pipe = ::popen(command.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string out;
  std::array<char, 1024> buffer{};
  while (const std::size_t n = std::fread(buffer.data(), 1, buffer.size(), pipe)) {
    out.append(buffer.data(), n);
  }
  const int raw = ::pclose(pipe);
  EXPECT_EQ(WEXITSTATUS(raw), 2);
  EXPECT_NE(out.find("rules.toml:"), std::string::npos) << out;
}

}  // namespace
