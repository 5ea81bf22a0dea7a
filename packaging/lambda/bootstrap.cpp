// The entry point of the Lambda package (`bootstrap` at the zip's root, run by
// the provided.al2023 runtime without arguments). It runs bin/salesflow through
// the dynamic loader and the shared libraries bundled in lib/, so the binary
// starts on a system whose own glibc is older than the one it was built
// against, or that has none at all. Linked statically: it must start before
// any loader is known. docs/lambda.md ("The package") describes the layout.
//
//   bootstrap            ->  lib/ld-linux-x86-64.so.2 ... bin/salesflow lambda
//   bootstrap ARGS...    ->  lib/ld-linux-x86-64.so.2 ... bin/salesflow ARGS...
//
// AWS_CA_BUNDLE is set to the bundled etc/ca-certificates.crt unless the
// environment already names a CA file. Exit status 127 when salesflow cannot
// be started, with the reason on stderr.

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

namespace {

constexpr int kCannotStart = 127;

// The directory holding this executable ("" for the root), from /proc/self/exe
// (argv[0] need not be a path).
[[nodiscard]] std::optional<std::string> own_directory() {
  std::string path(4096, '\0');
  const ssize_t length = readlink("/proc/self/exe", path.data(), path.size());
  if (length <= 0 || static_cast<std::size_t>(length) >= path.size()) {
    return std::nullopt;
  }
  path.resize(static_cast<std::size_t>(length));
  return path.substr(0, path.rfind('/'));
}

[[nodiscard]] int cannot_start(const std::string& what, int error) {
  std::fprintf(stderr, "bootstrap: %s: %s\n", what.c_str(), std::strerror(error));
  return kCannotStart;
}

}  // namespace

int main(int argc, char** argv) {
  const std::optional<std::string> root = own_directory();
  if (!root) {
    return cannot_start("cannot find its own directory (/proc/self/exe)", errno);
  }
  const char* const ca_bundle = std::getenv("AWS_CA_BUNDLE");
  if (ca_bundle == nullptr || *ca_bundle == '\0') {
    const std::string bundled = *root + "/etc/ca-certificates.crt";
    if (setenv("AWS_CA_BUNDLE", bundled.c_str(), 1) != 0) {
      return cannot_start("cannot set AWS_CA_BUNDLE", errno);
    }
  }

  const std::string loader = *root + "/lib/ld-linux-x86-64.so.2";
  // --inhibit-cache: the host's /etc/ld.so.cache never points at its own libraries;
  // --library-path replaces LD_LIBRARY_PATH (Lambda sets one) for this process.
  std::vector<std::string> arguments{loader, "--inhibit-cache", "--library-path", *root + "/lib",
                                     *root + "/bin/salesflow"};
  if (argc > 1) {
    arguments.insert(arguments.end(), argv + 1, argv + argc);
  } else {
    arguments.emplace_back("lambda");
  }
  std::vector<char*> exec_argv;
  exec_argv.reserve(arguments.size() + 1);
  for (std::string& argument : arguments) {
    exec_argv.push_back(argument.data());
  }
  exec_argv.push_back(nullptr);
  execv(loader.c_str(), exec_argv.data());
  return cannot_start("cannot run " + loader, errno);
}
