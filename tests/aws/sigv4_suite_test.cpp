// Every case of the AWS SigV4 signing test suite (tests/data/sigv4-test-suite),
// in both the header-signed and the query-signed (presigned) form, compared
// byte for byte: canonical request, string to sign, signature, signed request.

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "aws/sigv4.hpp"

namespace salesflow::aws {
namespace {

const std::filesystem::path kSuiteDir =
    std::filesystem::path(SALESFLOW_TEST_DATA_DIR) / "sigv4-test-suite" / "v4";

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot read " << path;
  std::ostringstream content;
  content << in.rdbuf();
  return content.str();
}

std::vector<std::string> case_names() {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(kSuiteDir)) {
    if (entry.is_directory()) names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

// request.txt: "METHOD target HTTP/1.1", "Name:value" lines (a line starting
// with whitespace continues the previous value), an empty line, the body.
HttpRequest parse_request(const std::string& text) {
  HttpRequest request;
  const std::size_t head_end = text.find("\n\n");
  const std::string head = text.substr(0, head_end);
  if (head_end != std::string::npos) request.body = text.substr(head_end + 2);

  std::istringstream lines(head);
  std::string line;
  std::getline(lines, line);
  const std::size_t first_space = line.find(' ');
  const std::size_t last_space = line.rfind(' ');
  request.method = line.substr(0, first_space);
  const std::string target = line.substr(first_space + 1, last_space - first_space - 1);
  const std::size_t question = target.find('?');
  request.path = target.substr(0, question);
  request.query = question == std::string::npos ? "" : target.substr(question + 1);
  while (std::getline(lines, line)) {
    if (!line.empty() && (line.front() == ' ' || line.front() == '\t')) {
      request.headers.back().value += "\n" + line;
      continue;
    }
    const std::size_t colon = line.find(':');
    request.headers.push_back({line.substr(0, colon), line.substr(colon + 1)});
    if (request.headers.back().name == "Host") request.host = request.headers.back().value;
  }
  return request;
}

std::string serialize(const HttpRequest& request) {
  std::string out = request.method + " " + request.path;
  if (!request.query.empty()) out += "?" + request.query;
  out += " HTTP/1.1\n";
  for (const Header& header : request.headers) out += header.name + ":" + header.value + "\n";
  out += "\n" + request.body;
  return out;
}

struct SuiteCase {
  HttpRequest request;
  Credentials credentials;
  SigningScope scope;
  std::chrono::system_clock::time_point now;
  std::chrono::seconds expires{0};
  SigningOptions options;
};

SuiteCase load_case(const std::filesystem::path& dir) {
  rapidjson::Document context;
  context.Parse(read_file(dir / "context.json").c_str());
  EXPECT_FALSE(context.HasParseError());
  SuiteCase out;
  out.request = parse_request(read_file(dir / "request.txt"));
  const auto& credentials = context["credentials"];
  out.credentials.access_key_id = credentials["access_key_id"].GetString();
  out.credentials.secret_access_key = credentials["secret_access_key"].GetString();
  if (credentials.HasMember("token"))
    out.credentials.session_token = credentials["token"].GetString();
  out.scope = {context["region"].GetString(), context["service"].GetString()};
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  EXPECT_EQ(std::sscanf(context["timestamp"].GetString(), "%d-%d-%dT%d:%d:%dZ", &year, &month, &day,
                        &hour, &minute, &second),
            6);
  out.now = std::chrono::sys_days(std::chrono::year(year) / month / day) +
            std::chrono::hours(hour) + std::chrono::minutes(minute) + std::chrono::seconds(second);
  out.expires = std::chrono::seconds(context["expiration_in_seconds"].GetInt());
  out.options.normalize_path = context["normalize"].GetBool();
  out.options.content_sha256_header = context["sign_body"].GetBool();
  out.options.omit_session_token =
      context.HasMember("omit_session_token") && context["omit_session_token"].GetBool();
  return out;
}

class SigV4Suite : public testing::TestWithParam<std::string> {};

TEST_P(SigV4Suite, HeaderSignedFormMatchesByteForByte) {
  const std::filesystem::path dir = kSuiteDir / GetParam();
  SuiteCase c = load_case(dir);
  SigningTrace trace;
  sign_request(c.request, c.credentials, c.scope, c.now, c.options, nullptr, &trace);
  EXPECT_EQ(trace.canonical_request, read_file(dir / "header-canonical-request.txt"));
  EXPECT_EQ(trace.string_to_sign, read_file(dir / "header-string-to-sign.txt"));
  EXPECT_EQ(trace.signature, read_file(dir / "header-signature.txt"));
  EXPECT_EQ(serialize(c.request), read_file(dir / "header-signed-request.txt"));
}

TEST_P(SigV4Suite, HeaderSignedFormIsTheSameThroughTheKeyCache) {
  const std::filesystem::path dir = kSuiteDir / GetParam();
  SuiteCase c = load_case(dir);
  SigningKeyCache cache;
  SigningTrace trace;
  sign_request(c.request, c.credentials, c.scope, c.now, c.options, &cache, &trace);
  // Signing again replaces the previous signature instead of stacking headers.
  sign_request(c.request, c.credentials, c.scope, c.now, c.options, &cache, &trace);
  EXPECT_EQ(trace.signature, read_file(dir / "header-signature.txt"));
  EXPECT_EQ(serialize(c.request), read_file(dir / "header-signed-request.txt"));
  EXPECT_EQ(cache.derivations(), 1u);
}

TEST_P(SigV4Suite, QuerySignedFormMatchesByteForByte) {
  const std::filesystem::path dir = kSuiteDir / GetParam();
  SuiteCase c = load_case(dir);
  SigningTrace trace;
  presign_request(c.request, c.credentials, c.scope, c.now, c.expires, c.options, &trace);
  EXPECT_EQ(trace.canonical_request, read_file(dir / "query-canonical-request.txt"));
  EXPECT_EQ(trace.string_to_sign, read_file(dir / "query-string-to-sign.txt"));
  EXPECT_EQ(trace.signature, read_file(dir / "query-signature.txt"));
  EXPECT_EQ(serialize(c.request), read_file(dir / "query-signed-request.txt"));
}

INSTANTIATE_TEST_SUITE_P(AwsSigningTestSuite, SigV4Suite, testing::ValuesIn(case_names()),
                         [](const testing::TestParamInfo<std::string>& info) {
                           std::string name = info.param;
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name;
                         });

TEST(SigV4SuiteData, HasEveryCase) {
  // Guards against a silently empty or partial copy of the suite.
  EXPECT_EQ(case_names().size(), 38u);
  EXPECT_TRUE(std::filesystem::exists(kSuiteDir.parent_path() / "LICENSE"));
  EXPECT_TRUE(std::filesystem::exists(kSuiteDir.parent_path() / "NOTICE"));
}

}  // namespace
}  // namespace salesflow::aws
