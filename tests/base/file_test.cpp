// Whole-file reads: the bytes as they are, an empty file, a missing one.
#include "base/file.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

namespace salesflow::base {
namespace {

std::string temp_path(const char* name) {
  const char* const dir = std::getenv("TMPDIR");
  return std::string(dir != nullptr ? dir : "/tmp") + "/salesflow-file-test-" +
         std::to_string(::getpid()) + "-" + name;
}

TEST(File, ReadsEveryByte) {
  const std::string path = temp_path("bytes");
  const std::string bytes("line 1\r\nline 2\n\0binary\xff", 24);
  std::ofstream(path, std::ios::binary) << bytes;
  EXPECT_EQ(read_file(path), bytes);
  std::remove(path.c_str());
}

TEST(File, AnEmptyFileIsAnEmptyString) {
  const std::string path = temp_path("empty");
  std::ofstream(path, std::ios::binary).flush();
  EXPECT_EQ(read_file(path), std::string());
  std::remove(path.c_str());
}

TEST(File, AMissingFileIsNullopt) {
  errno = 0;
  EXPECT_EQ(read_file(temp_path("missing")), std::nullopt);
  EXPECT_EQ(errno, ENOENT);
}

}  // namespace
}  // namespace salesflow::base
