// SALESFLOW_<OPTION> variables, run as the real binary with an environment of
// the test's own making (nothing inherited from the caller).

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "temp_dir.hpp"

namespace {

namespace fs = std::filesystem;

struct Outcome {
  int status = -1;
  std::string out;
  std::string err;
};

std::string slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

class Environment : public salesflow::app::test::TempDirTest {
 protected:
  std::string write(const std::string& name, const std::string& content) {
    const fs::path path = dir_ / name;
    std::ofstream(path, std::ios::binary) << content;
    return path.string();
  }

  // Runs salesflow in dir_ with exactly `env` (NAME=VALUE) as its environment.
  Outcome run(const std::vector<std::string>& args, const std::vector<std::string>& env) {
    const fs::path out_path = dir_ / "stdout";
    const fs::path err_path = dir_ / "stderr";
    std::vector<std::string> argv_storage{SALESFLOW_BINARY_PATH};
    argv_storage.insert(argv_storage.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& arg : argv_storage) {
      argv.push_back(arg.data());
    }
    argv.push_back(nullptr);
    std::vector<std::string> env_storage = env;
    std::vector<char*> envp;
    for (auto& entry : env_storage) {
      envp.push_back(entry.data());
    }
    envp.push_back(nullptr);

    Outcome outcome;
    const pid_t pid = ::fork();
    if (pid == 0) {
      const int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      const int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      if (out < 0 || err < 0 || ::dup2(out, 1) < 0 || ::dup2(err, 2) < 0 ||
          ::chdir(dir_.c_str()) != 0) {
        ::_exit(126);
      }
      ::execve(argv[0], argv.data(), envp.data());
      ::_exit(127);
    }
    int raw = 0;
    if (pid < 0 || ::waitpid(pid, &raw, 0) != pid) {
      return outcome;
    }
    outcome.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
    outcome.out = slurp(out_path);
    outcome.err = slurp(err_path);
    return outcome;
  }
};

const std::string kGood =
    R"({"order-info":{"OrderId":"A1"},"contact-info":{"email":"a@example.com"}})";
const std::string kNoContact = R"({"order-info":{"OrderId":"A2"}})";
// Only an OrderId is required: kNoContact passes.
const std::string kLenientRules = R"(defaults = "replace"
[key.partition]
attribute = "OrderId"
path = "/order-info/OrderId"
type = "S"
[[field]]
path = "/order-info/OrderId"
required = true
types = ["string"]
)";

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST_F(Environment, VariableSetsAGlobalOption) {
  const auto file = write("no-contact.jsonl", kNoContact + "\n");
  const auto rules = write("lenient.toml", kLenientRules);
  EXPECT_EQ(run({"validate", file}, {}).status, 1);
  const Outcome outcome = run({"validate", file}, {"SALESFLOW_RULES=" + rules});
  EXPECT_EQ(outcome.status, 0) << outcome.err;
  EXPECT_EQ(outcome.err.find("warning"), std::string::npos) << outcome.err;
}

TEST_F(Environment, FlagBeatsVariable) {
  const auto file = write("good.jsonl", kGood + "\n");
  EXPECT_EQ(run({"validate", file}, {"SALESFLOW_FORMAT=array"}).status, 1);
  const Outcome outcome = run({"--format", "jsonl", "validate", file}, {"SALESFLOW_FORMAT=array"});
  EXPECT_EQ(outcome.status, 0) << outcome.err;
}

TEST_F(Environment, VariableBeatsSettingsFile) {
  const auto file = write("good.jsonl", kGood + "\n");
  write("salesflow.toml", "format = \"array\"\n");
  EXPECT_EQ(run({"validate", file}, {}).status, 1);
  const Outcome outcome = run({"validate", file}, {"SALESFLOW_FORMAT=jsonl"});
  EXPECT_EQ(outcome.status, 0) << outcome.err;
}

TEST_F(Environment, VariableBeatsSettingsFileSectionOfACommand) {
  const auto file = write("good.jsonl", kGood + "\n");
  const auto config = write("json.toml", "[validate]\njson = true\n");
  EXPECT_TRUE(has(run({"--config", config, "validate", file}, {}).out, "\"files\""));
  const Outcome outcome = run({"--config", config, "validate", file}, {"SALESFLOW_JSON=false"});
  EXPECT_EQ(outcome.status, 0) << outcome.err;
  EXPECT_FALSE(has(outcome.out, "\"files\"")) << outcome.out;
}

TEST_F(Environment, SettingsFileBeatsDefault) {
  const auto file = write("good.jsonl", kGood + "\n");
  EXPECT_EQ(run({"validate", file}, {}).status, 0);
  const auto config = write("array.toml", "format = \"array\"\n");
  EXPECT_EQ(run({"--config", config, "validate", file}, {}).status, 1);
}

TEST_F(Environment, ConfigVariableNamesTheSettingsFile) {
  const auto file = write("good.jsonl", kGood + "\n");
  const auto config = write("array.toml", "format = \"array\"\n");
  EXPECT_EQ(run({"validate", file}, {"SALESFLOW_CONFIG=" + config}).status, 1);
  const auto plain = write("plain.toml", "");
  EXPECT_EQ(run({"--config", plain, "validate", file}, {"SALESFLOW_CONFIG=" + config}).status, 0);

  const Outcome missing = run({"validate", file}, {"SALESFLOW_CONFIG=/nonexistent/s.toml"});
  EXPECT_EQ(missing.status, 2);
  EXPECT_TRUE(has(missing.err, "SALESFLOW_CONFIG=/nonexistent/s.toml: ")) << missing.err;
}

TEST_F(Environment, BooleanFlagFromVariable) {
  const auto file = write("good.jsonl", kGood + "\n");
  for (const std::string value : {"true", "1"}) {
    const Outcome outcome = run({"validate", file}, {"SALESFLOW_JSON=" + value});
    EXPECT_EQ(outcome.status, 0) << value << outcome.err;
    EXPECT_TRUE(has(outcome.out, "\"files\"")) << value << outcome.out;
  }
  for (const std::string value : {"false", "0"}) {
    const Outcome outcome = run({"validate", file}, {"SALESFLOW_JSON=" + value});
    EXPECT_EQ(outcome.status, 0) << value << outcome.err;
    EXPECT_FALSE(has(outcome.out, "\"files\"")) << value << outcome.out;
  }
  const Outcome flag = run({"validate", "--json", file}, {"SALESFLOW_JSON=false"});
  EXPECT_TRUE(has(flag.out, "\"files\"")) << flag.out;
  const Outcome bad = run({"validate", file}, {"SALESFLOW_JSON=maybe"});
  EXPECT_EQ(bad.status, 2);
  EXPECT_TRUE(has(bad.err, "SALESFLOW_JSON=maybe: ")) << bad.err;
}

TEST_F(Environment, BadValueNamesTheVariable) {
  const auto file = write("good.jsonl", kGood + "\n");
  const Outcome format = run({"validate", file}, {"SALESFLOW_FORMAT=yaml"});
  EXPECT_EQ(format.status, 2);
  EXPECT_TRUE(has(format.err, "SALESFLOW_FORMAT=yaml: --format")) << format.err;

  // A command's option; the error comes before the worker touches any queue.
  const Outcome objects = run({"worker"}, {"SALESFLOW_OBJECTS=abc"});
  EXPECT_EQ(objects.status, 2);
  EXPECT_TRUE(has(objects.err, "SALESFLOW_OBJECTS=abc: --objects")) << objects.err;

  const Outcome limit = run({"dlq", "stats"}, {"SALESFLOW_LIMIT=abc"});
  EXPECT_EQ(limit.status, 2);
  EXPECT_TRUE(has(limit.err, "SALESFLOW_LIMIT=abc: ")) << limit.err;

  const Outcome conflict = run({"process", "s3://b/k"}, {"SALESFLOW_ON_CONFLICT=bogus"});
  EXPECT_EQ(conflict.status, 2);
  EXPECT_TRUE(has(conflict.err, "SALESFLOW_ON_CONFLICT=bogus: --on-conflict")) << conflict.err;

  const Outcome range = run({"worker"}, {"SALESFLOW_OBJECTS=0"});
  EXPECT_EQ(range.status, 2);
  EXPECT_TRUE(has(range.err, "SALESFLOW_OBJECTS=0: --objects")) << range.err;

  // The same value from the flag is reported under the flag.
  const Outcome flag = run({"--format", "yaml", "validate", file}, {});
  EXPECT_EQ(flag.status, 2);
  EXPECT_FALSE(has(flag.err, "SALESFLOW_")) << flag.err;
  EXPECT_TRUE(has(flag.err, "--format")) << flag.err;
}

TEST_F(Environment, OtherCommandsVariablesAreNotRead) {
  // init's --max-receive-count allows 1..1000; validate has no such option.
  const auto file = write("good.jsonl", kGood + "\n");
  const Outcome outcome = run({"validate", file}, {"SALESFLOW_MAX_RECEIVE_COUNT=5000"});
  EXPECT_EQ(outcome.status, 0) << outcome.err;
  const Outcome init = run({"init"}, {"SALESFLOW_MAX_RECEIVE_COUNT=5000"});
  EXPECT_EQ(init.status, 2);
  EXPECT_TRUE(has(init.err, "SALESFLOW_MAX_RECEIVE_COUNT=5000: ")) << init.err;
}

TEST_F(Environment, UnknownVariablesAreReportedReservedOnesAreNot) {
  const auto file = write("good.jsonl", kGood + "\n");
  const Outcome outcome =
      run({"validate", file},
          {"SALESFLOW_TABEL=x", "SALESFLOW_FROMAT=jsonl", "SALESFLOW_BINARY=/bin/true",
           "SALESFLOW_LOCALAWS_ADMIN=http://x", "SALESFLOW_TABLE=t", "OTHER=1"});
  EXPECT_EQ(outcome.status, 0) << outcome.err;
  EXPECT_TRUE(has(outcome.err,
                  "salesflow: warning: ignoring SALESFLOW_FROMAT, SALESFLOW_TABEL: no such option"))
      << outcome.err;
  EXPECT_FALSE(has(outcome.err, "SALESFLOW_BINARY")) << outcome.err;
  EXPECT_FALSE(has(outcome.err, "SALESFLOW_LOCALAWS")) << outcome.err;
  EXPECT_FALSE(has(outcome.err, "SALESFLOW_TABLE,")) << outcome.err;
}

TEST_F(Environment, HelpShowsTheVariables) {
  const Outcome root = run({"--help"}, {});
  EXPECT_EQ(root.status, 0);
  EXPECT_TRUE(has(root.out, "(Env:SALESFLOW_TABLE)")) << root.out;
  EXPECT_TRUE(has(root.out, "(Env:SALESFLOW_CONFIG)")) << root.out;
  EXPECT_TRUE(has(root.out, "SALESFLOW_<OPTION>")) << root.out;
  EXPECT_FALSE(has(root.out, "SALESFLOW_HELP")) << root.out;
  EXPECT_FALSE(has(root.out, "SALESFLOW_VERSION")) << root.out;

  const Outcome worker = run({"worker", "--help"}, {});
  EXPECT_EQ(worker.status, 0);
  EXPECT_TRUE(has(worker.out, "(Env:SALESFLOW_DLQ_MAX_MESSAGE_BYTES)")) << worker.out;
  EXPECT_TRUE(has(worker.out, "(Env:SALESFLOW_ON_CONFLICT)")) << worker.out;

  const Outcome validate = run({"validate", "--help"}, {});
  EXPECT_TRUE(has(validate.out, "(Env:SALESFLOW_JSON)")) << validate.out;
  EXPECT_FALSE(has(validate.out, "SALESFLOW_FILES")) << validate.out;
}

}  // namespace
