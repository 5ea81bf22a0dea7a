#include "app/cli.hpp"

int main(int argc, char** argv) { return salesflow::app::run_cli(argc, argv); }
