// grid import | show. Owned by the grid work; placeholder until it lands.
#include "cli/commands.h"

namespace carbonclock::cli {
void register_grid_commands(CLI::App& app, int& exit_code) {
  auto* grid = app.add_subcommand("grid", "Import, fetch and show grid carbon-intensity data");
  grid->require_subcommand(1);
  register_grid_fetch_command(*grid, exit_code);
}
}  // namespace carbonclock::cli
