// Each command group registers its subcommands on the root app. The CLI parses arguments and
// calls the libraries, nothing else. A callback stores the process exit code in `exit_code`.
#pragma once

#include <CLI/CLI.hpp>

#include "common/error.h"

namespace carbonclock {
struct AccountingChoices;
}

namespace carbonclock::cli {

/// Adds the accounting options shared by `run` and `report` (--zone, --region, --pue, --per,
/// --work) to `cmd`; defined in report_command.cc.
void add_accounting_options(CLI::App* cmd, AccountingChoices& choices);
/// Fills the fallbacks of the zone choice: $CARBONCLOCK_ZONE / $CARBONCLOCK_REGION, then the
/// config file's `zone` / `region` keys (docs/live-sources.md). Error for a config file that
/// cannot be used (e.g. readable by others; callers warn and go on without it); defined in
/// report_command.cc.
Status add_default_zone_sources(AccountingChoices& choices);

void register_run_command(CLI::App& app, int& exit_code);
void register_report_command(CLI::App& app, int& exit_code);
void register_grid_commands(CLI::App& app, int& exit_code);  // grid import | show
void register_grid_fetch_command(CLI::App& grid,
                                 int& exit_code);  // grid fetch (called by the above)
void register_regions_command(CLI::App& app, int& exit_code);
void register_history_command(CLI::App& app, int& exit_code);  // history
void register_shift_commands(CLI::App& app, int& exit_code);   // shift | whatif | sweep
void register_plan_command(CLI::App& app, int& exit_code);     // plan (carbon-aware execution)

/// Prints "carbonclock: error: MESSAGE" on stderr.
void print_error(const std::string& message);

}  // namespace carbonclock::cli
