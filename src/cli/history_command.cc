// history. Placeholder until the accounting work lands.
#include "cli/commands.h"

namespace carbonclock::cli {
void register_history_command(CLI::App& /*app*/, int& /*exit_code*/) {}
}  // namespace carbonclock::cli
