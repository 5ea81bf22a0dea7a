// The last line of a process whose entry point let an exception escape.
#include "base/fatal.hpp"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <new>
#include <stdexcept>
#include <thread>

namespace salesflow::base {
namespace {

TEST(Fatal, LineIsJsonNamingWhereAndWhat) {
  const std::string line =
      fatal_line("worker \"objects\"", std::make_exception_ptr(std::runtime_error("bad\nthing")));
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_EQ(parser.parse(line).get(doc), simdjson::SUCCESS) << line;
  EXPECT_EQ(std::string_view(doc["level"]), "fatal");
  EXPECT_EQ(std::string_view(doc["where"]), "worker \"objects\"");
  EXPECT_EQ(std::string_view(doc["error"]), "bad\nthing");
  EXPECT_FALSE(std::string_view(doc["ts"]).empty());
}

TEST(Fatal, UnknownExceptionsAreDescribedToo) {
  const std::string line = fatal_line("main", std::make_exception_ptr(42));
  EXPECT_NE(line.find("unknown type"), std::string::npos) << line;
}

TEST(FatalDeathTest, AnExceptionEscapingAThreadEndsTheProcessWithALine) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");  // the test binary may have threads
  EXPECT_EXIT(
      {
        std::thread thread([] { run_or_die("test thread", [] { throw std::bad_alloc(); }); });
        thread.join();
      },
      ::testing::ExitedWithCode(kExitFatal), R"("where":"test thread","error":"std::bad_alloc")");
}

TEST(Fatal, NothingHappensWithoutAnException) {
  int ran = 0;
  run_or_die("quiet", [&] { ++ran; });
  EXPECT_EQ(ran, 1);
}

}  // namespace
}  // namespace salesflow::base
