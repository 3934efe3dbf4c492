#include "cli/commands.h"

namespace carbonclock::cli {
void register_report_command(CLI::App& /*app*/, int& /*exit_code*/) {}
}  // namespace carbonclock::cli
