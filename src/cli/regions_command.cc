// regions. Placeholder until the region catalogue lands.
#include "cli/commands.h"

namespace carbonclock::cli {
void register_regions_command(CLI::App& /*app*/, int& /*exit_code*/) {}
}  // namespace carbonclock::cli
