// grid fetch. Placeholder until the live-sources work lands.
#include "cli/commands.h"

namespace carbonclock::cli {
void register_grid_fetch_command(CLI::App& /*grid*/, int& /*exit_code*/) {}
}  // namespace carbonclock::cli
