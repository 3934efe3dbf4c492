// What every command shares: the console, the environment, the exit code, an observer that
// prints notes and warnings on stderr, and the options several commands take. Each command
// group registers its subcommands on the root app; a callback parses its options into a
// request, calls the use case, renders the result and sets the exit code.
#pragma once

#include <CLI/CLI.hpp>
#include <filesystem>
#include <initializer_list>
#include <optional>
#include <string>

#include "accounting/accounting.h"
#include "app/context.h"
#include "app/schedule.h"
#include "cli/cli.h"
#include "cli/exit_codes.h"
#include "common/files.h"
#include "reports/format.h"

namespace carbonclock::cli {

/// Prints notes and warnings on stderr, each line starting with "carbonclock: ".
class ConsoleObserver : public ScheduleObserver {
 public:
  explicit ConsoleObserver(Console& console) : console_(console) {}
  void note(std::string_view text) override;
  void warning(std::string_view text) override;

 protected:
  Console& console_;
};

struct CommandContext {
  explicit CommandContext(CliEnvironment& e) : env(e), observer(e.console) {}
  CliEnvironment& env;
  ConsoleObserver observer;
  int exit_code = 0;

  /// The use cases' context (no network unless `http` is given).
  AppContext app(HttpTransport* http = nullptr);
  /// Prints "carbonclock: error: MESSAGE" and sets the exit code for the error's category.
  void fail(const Error& error, CommandKind kind = CommandKind::kTool);
  /// Writes `text` to stdout, or atomically to `path` when given (failing on error).
  void emit(const std::string& text, const std::string& path = {});
};

/// Output a command writes in pieces as it produces them: to stdout, or to a temporary file
/// that commit() renames over `path`, so a command that fails leaves no half-written file.
class StreamedOutput {
 public:
  /// Stdout when `path` is empty, else `path` (nothing written there before commit()).
  static Result<StreamedOutput> open(const std::string& path, Console& console);
  Status write(std::string_view bytes);
  /// Renames the file into place; nothing to do for stdout.
  Status commit();

 private:
  explicit StreamedOutput(Console& console) : console_(&console) {}
  Console* console_;
  std::optional<AtomicFileWriter> file_;
};

// Shared options.
void add_db_option(CLI::App* cmd, std::string& db);
/// --format with its choices in --help and validated while parsing.
void add_format_option(CLI::App* cmd, std::string& format, std::span<const Format> allowed,
                       const std::string& what = "");
/// Accepts exactly one of `choices`; the error names the value and lists them with " | ".
CLI::Validator one_of(std::vector<std::string> choices, const std::string& name);
/// -o/--output FILE.
void add_output_option(CLI::App* cmd, std::string& path, const std::string& what);
/// The one way every command explains --signal: "WHAT: marginal | average grid intensity
/// (default: DEFAULT); ...".
std::string signal_help(const std::string& what, const std::string& signal_default);
/// What --work means, as the docs say it (docs/accounting.md, "Functional unit").
inline constexpr const char* kWorkHelp =
    "How many of --per's items the run did: R = work / count functional units, e.g. --per "
    "'1000 samples' --work 300 gives R = 0.3 (default: R = 1, the run is one functional unit)";
/// The positional name of a run directory, alike in every command.
inline constexpr const char* kRunDirName = "RUN_DIR";
/// --signal and --factor as every command explains them.
void add_signal_options(CLI::App* cmd, std::string& signal, std::string& factor,
                        const std::string& signal_default);
/// --zone, --region, --pue, --per, --work (run and report).
void add_accounting_options(CLI::App* cmd, AccountingChoices& choices);
/// --flex-start, --pause-resume, --deadline, --deadline-mode, --slot, --signal, --factor,
/// --forecast-source, --intensity-file; with `run_options` also --expected-duration,
/// --pause-signal, --resume-command, --pause-grace.
void add_schedule_options(CLI::App* cmd, ScheduleArgs& args, bool run_options);
/// Loads $CARBONCLOCK_ZONE/REGION and the config file's zone/region into `choices` (a config
/// file that cannot be used is a warning).
void load_zone_defaults_into(CommandContext& ctx, AccountingChoices& choices);

void register_run_command(CLI::App& app, CommandContext& ctx);
void register_report_command(CLI::App& app, CommandContext& ctx);
void register_grid_commands(CLI::App& app, CommandContext& ctx);  // import | list | show | fetch
void register_regions_command(CLI::App& app, CommandContext& ctx);
void register_history_command(CLI::App& app, CommandContext& ctx);
void register_shift_commands(CLI::App& app, CommandContext& ctx);  // shift | whatif | sweep
void register_plan_command(CLI::App& app, CommandContext& ctx);
void register_forecast_commands(CLI::App& app, CommandContext& ctx);  // forecast | backtest
void register_merge_command(CLI::App& app, CommandContext& ctx);

/// `report JOB_DIR` and `merge JOB_DIR`: a distributed job's merged report (merge_command.cc).
struct JobReportArgs {
  std::string job_dir;
  std::string out;
  std::string signal;
  std::string db;
  AccountingChoices choices;
};
void report_job(const JobReportArgs& args, const std::string& format, CommandContext& ctx);
void register_exporter_command(CLI::App& app, CommandContext& ctx);

}  // namespace carbonclock::cli
