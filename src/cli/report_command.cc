// carbonclock report RUN_DIR: show a measured run (rebuilt from its journal if carbonclock died).
#include <fmt/format.h>

#include "cli/commands.h"
#include "metering/run_record.h"
#include "reports/summary.h"

namespace carbonclock::cli {

void register_report_command(CLI::App& app, int& exit_code) {
  struct Options {
    std::string run_dir;
    std::string format = "text";
  };
  auto o = std::make_shared<Options>();
  auto* cmd = app.add_subcommand(
      "report", "Show a measured run; rebuilds it from its journal if carbonclock was killed");
  cmd->add_option("RUN_DIR", o->run_dir, "A run directory written by `carbonclock run`")
      ->required();
  cmd->add_option("--format", o->format, "text or json (run.json's schema)")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  cmd->callback([o, &exit_code] {
    auto run = load_run(o->run_dir);
    if (!run) {
      print_error(run.error().message());
      exit_code = 1;
      return;
    }
    if (o->format == "json") {
      fmt::print("{}\n", run_to_json(*run).dump(2));
    } else {
      fmt::print("{}", run_summary_text(*run, o->run_dir));
    }
    exit_code = 0;
  });
}

}  // namespace carbonclock::cli
