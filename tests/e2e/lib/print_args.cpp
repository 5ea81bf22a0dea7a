// Stands in for bin/salesflow in a copy of the Lambda package
// (tests/e2e/lambda_package.sh): prints what the launcher handed over, one
// line each: argv[0], every argument in brackets, then AWS_CA_BUNDLE.
#include <cstdio>
#include <cstdlib>

int main(int argc, char** argv) {
  std::printf("argv0=%s\n", argv[0]);
  for (int i = 1; i < argc; ++i) {
    std::printf("arg=[%s]\n", argv[i]);
  }
  const char* const ca_bundle = std::getenv("AWS_CA_BUNDLE");
  std::printf("AWS_CA_BUNDLE=%s\n", ca_bundle == nullptr ? "(unset)" : ca_bundle);
  return 0;
}
