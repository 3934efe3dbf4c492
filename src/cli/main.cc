#include <fmt/format.h>

#include <cstdio>

#include "cli/commands.h"

#ifndef CARBONCLOCK_VERSION
#define CARBONCLOCK_VERSION "0.0.0"
#endif

namespace carbonclock::cli {
void print_error(const std::string& message) {
  fmt::print(stderr, "carbonclock: error: {}\n", message);
}
}  // namespace carbonclock::cli

int main(int argc, char** argv) {
  using namespace carbonclock::cli;
  CLI::App app{
      "carbonclock: measure the energy and carbon of compute jobs, and cut it by running them "
      "at greener times and places."};
  app.set_version_flag("--version", CARBONCLOCK_VERSION);
  app.require_subcommand(1);
  int exit_code = 0;
  register_run_command(app, exit_code);
  register_report_command(app, exit_code);
  register_grid_commands(app, exit_code);
  register_regions_command(app, exit_code);
  register_history_command(app, exit_code);
  register_shift_commands(app, exit_code);
  register_plan_command(app, exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return exit_code;
}
