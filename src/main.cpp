#include "app/cli.hpp"
#include "base/fatal.hpp"

int main(int argc, char** argv) {
  int status = salesflow::base::kExitFatal;
  salesflow::base::run_or_die("main", [&] { status = salesflow::app::run_cli(argc, argv); });
  return status;
}
