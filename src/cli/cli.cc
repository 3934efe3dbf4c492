#include "cli/cli.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <sstream>

#include "app/run_common.h"
#include "cli/commands.h"
#include "common/files.h"
#include "common/strings.h"

#ifndef CARBONCLOCK_VERSION
#define CARBONCLOCK_VERSION "0.0.0"
#endif

namespace carbonclock::cli {

void StdConsole::out(std::string_view text) {
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fflush(stdout);
}

void StdConsole::err(std::string_view text) {
  // write(2) directly, not stdio: an unbuffered stream may split a status-line redraw into
  // several writes, and the job's output could then land between them.
  std::fflush(stderr);
  while (!text.empty()) {
    ssize_t n = ::write(STDERR_FILENO, text.data(), text.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    text.remove_prefix(static_cast<size_t>(n));
  }
}

bool StdConsole::err_is_terminal() const { return ::isatty(STDERR_FILENO) != 0; }

std::optional<TerminalSize> StdConsole::err_terminal_size() const {
  winsize ws{};
  if (::isatty(STDERR_FILENO) == 0 || ::ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) != 0) {
    return std::nullopt;
  }
  return TerminalSize{ws.ws_row, ws.ws_col};
}

CliEnvironment process_environment(Console& console, Clock& clock) {
  CliEnvironment env{console, clock, process_env, {}};
  env.make_http = [](Nanos timeout) -> std::unique_ptr<HttpTransport> {
    CurlOptions options;
    options.total_timeout = timeout;
    options.connect_timeout = std::min<Nanos>(timeout, std::chrono::seconds(10));
    options.user_agent = std::string("carbonclock/") + CARBONCLOCK_VERSION;
    return std::make_unique<CurlTransport>(options);
  };
  return env;
}

// ---- CommandContext and the shared options ------------------------------------------------

void ConsoleObserver::note(std::string_view text) {
  console_.err(fmt::format("carbonclock: {}\n", text));
}

void ConsoleObserver::warning(std::string_view text) {
  console_.err(fmt::format("carbonclock: warning: {}\n", text));
}

AppContext CommandContext::app(HttpTransport* http) {
  return AppContext{env.clock, http, env.env, observer};
}

void CommandContext::fail(const Error& error, CommandKind kind) {
  // One line per line of the message, each starting "carbonclock: ".
  std::string_view rest = error.message();
  bool first = true;
  while (!rest.empty() || first) {
    size_t nl = rest.find('\n');
    env.console.err(
        fmt::format("carbonclock: {}{}\n", first ? "error: " : "  ", rest.substr(0, nl)));
    rest.remove_prefix(nl == std::string_view::npos ? rest.size() : nl + 1);
    first = false;
  }
  exit_code = exit_code_for(error.code(), kind);
}

void CommandContext::emit(const std::string& text, const std::string& path) {
  if (path.empty()) {
    env.console.out(text);
    return;
  }
  if (Status s = write_file_atomic(path, text); !s) fail(s.error());
}

Result<StreamedOutput> StreamedOutput::open(const std::string& path, Console& console) {
  StreamedOutput out(console);
  if (!path.empty()) {
    auto f = AtomicFileWriter::create(path);
    if (!f) return f.error();
    out.file_.emplace(std::move(*f));
  }
  return out;
}

Status StreamedOutput::write(std::string_view bytes) {
  if (file_) return file_->write(bytes);
  console_->out(bytes);
  return {};
}

Status StreamedOutput::commit() { return file_ ? file_->commit() : Status{}; }

void add_db_option(CLI::App* cmd, std::string& db) {
  cmd->add_option("--db", db,
                  "Store of grid data and run history (default $CARBONCLOCK_DB, else "
                  "$XDG_DATA_HOME/carbonclock/carbonclock.db)");
}

void add_format_option(CLI::App* cmd, std::string& format, std::span<const Format> allowed,
                       const std::string& what) {
  std::vector<std::string> choices;
  for (Format f : allowed) choices.emplace_back(to_string(f));
  cmd->add_option("--format", format,
                  format_choices(allowed) + (what.empty() ? "" : " (" + what + ")"))
      ->capture_default_str()
      ->check(one_of(choices, "FORMAT"));
}

CLI::Validator one_of(std::vector<std::string> choices, const std::string& name) {
  return CLI::Validator(
      [choices](std::string& value) -> std::string {
        for (const auto& c : choices) {
          if (value == c) return {};
        }
        return fmt::format("'{}' is not one of {}", value, fmt::join(choices, " | "));
      },
      name);
}

void add_output_option(CLI::App* cmd, std::string& path, const std::string& what) {
  cmd->add_option("-o,--output", path, what)->type_name("FILE");
}

std::string signal_help(const std::string& what, const std::string& signal_default) {
  return fmt::format(
      "{}: marginal | average grid intensity (default: {}); marginal data is looked up under "
      "the zone's WattTime region too",
      what, signal_default);
}

void add_signal_options(CLI::App* cmd, std::string& signal, std::string& factor,
                        const std::string& signal_default) {
  cmd->add_option("--signal", signal, signal_help("Signal", signal_default))
      ->check(one_of({"marginal", "average"}, "SIGNAL"));
  cmd->add_option("--factor", factor,
                  "lifecycle | direct emission factors (default: lifecycle where stored, else "
                  "direct)");
}

void add_accounting_options(CLI::App* cmd, AccountingChoices& c) {
  cmd->add_option("--zone", c.zone,
                  "Grid zone (DE, US-CAL-CISO, an Electricity Maps alias such as DE-LU, an "
                  "imported zone)");
  cmd->add_option("--region", c.region, "Cloud region (e.g. us-west-2, westus2, europe-west4)");
  cmd->add_option("--pue", c.pue, "Power usage effectiveness, 1 to 3 (default 1.0, stated)");
  cmd->add_option("--per", c.per,
                  "Functional unit: COUNT UNIT, e.g. '1000 inferences', epoch, '1e6 tokens' "
                  "(default: the run); SCI is per functional unit");
  cmd->add_option("--work", c.work, std::string(kWorkHelp));
}

void add_schedule_options(CLI::App* cmd, ScheduleArgs& a, bool run_options) {
  const char* group = "Carbon-aware execution (docs/execution.md)";
  cmd->add_option("--flex-start", a.flex_start,
                  "Flexible Start: start up to N later (12h, or 50% of the duration), in the "
                  "cleanest time, then run to completion")
      ->group(group);
  cmd->add_option("--pause-resume", a.pause_resume,
                  "Pause and Resume: finish within duration + N (12h or 50%), running only in "
                  "the cleanest slots")
      ->group(group);
  cmd->add_option("--deadline", a.deadline,
                  "Instead of N: finish by T (UTC time, or +DURATION from now)")
      ->group(group);
  cmd->add_option("--deadline-mode", a.deadline_mode,
                  "With --deadline: pause-resume (default) or flex-start")
      ->check(CLI::IsMember({"pause-resume", "flex-start"}))
      ->group(group);
  cmd->add_option("--slot", a.slot, "Slot length, UTC-aligned, at least 1s (default 5m)")
      ->group(group);
  cmd->add_option("--signal", a.signal, signal_help("Plan on", "average"))
      ->check(one_of({"marginal", "average"}, "SIGNAL"))
      ->group(group);
  cmd->add_option("--factor", a.factor,
                  "lifecycle | direct emission factors (default: lifecycle where stored, else "
                  "direct)")
      ->group(group);
  cmd->add_option("--forecast-source", a.forecast_source,
                  "Fetch this provider's current forecast before planning: watttime, "
                  "electricitymaps or ukci (credentials as for `grid fetch`); on failure, plan "
                  "on stored data and say so")
      ->group(group);
  cmd->add_option("--risk", a.risk,
                  "Plan on this quantile of carbonclock's own forecast's prediction interval: "
                  "point (default), p10, p50 or p90 (risk-averse); slots resting on data without "
                  "intervals (a provider forecast, the embedded profile) are planned on as they "
                  "are, and the plan says so")
      ->check(CLI::IsMember({"point", "p10", "p50", "p90"}))
      ->group(group);
  cmd->add_option("--intensity-file", a.intensity_file,
                  "Scripted intensity CSV (start,duration_s,g_per_kwh; start UTC or +SECONDS "
                  "from the first slot), re-read at every slot boundary; for tests and demos")
      ->group(group);
  if (!run_options) return;
  cmd->add_option("--expected-duration", a.expected_duration,
                  "Running time the job needs (required with the options above)")
      ->group(group);
  cmd->add_option("--pause-signal", a.pause_signal,
                  "Pause by sending SIG (e.g. USR1) to a job that checkpoints and exits 0, "
                  "instead of SIGSTOP; needs --resume-command")
      ->group(group);
  cmd->add_option("--resume-command", a.resume_command,
                  "Shell command that restarts the job from its checkpoint (run with sh -c)")
      ->group(group);
  cmd->add_option("--pause-grace", a.pause_grace,
                  "How long a job may take to exit on --pause-signal before it is stopped with "
                  "SIGSTOP instead (default 60s)")
      ->group(group);
}

void load_zone_defaults_into(CommandContext& ctx, AccountingChoices& choices) {
  choices.defaults = zone_defaults_or_environment(ctx.env.env, ctx.observer);
}

// ---- the root ----------------------------------------------------------------------------

int run_cli(int argc, const char* const* argv, CliEnvironment& env) {
  CLI::App app{
      "carbonclock: measure the energy and carbon of compute jobs, and cut it by running them "
      "at greener times and places."};
  app.set_version_flag("--version", CARBONCLOCK_VERSION);
  app.require_subcommand(1);
  app.footer(
      "Exit status: 0 on success; `run` passes the job's status on and uses 125 for its own "
      "failures (126: command not executable, 127: not found); `exporter` exits 125 when it "
      "cannot start; the other commands exit 2 "
      "(invalid input), 3 (not found), 4 (I/O error), 5 (unavailable) or 70 (internal error).");
  CommandContext ctx(env);
  register_run_command(app, ctx);
  register_report_command(app, ctx);
  register_grid_commands(app, ctx);
  register_regions_command(app, ctx);
  register_history_command(app, ctx);
  register_shift_commands(app, ctx);
  register_plan_command(app, ctx);
  register_forecast_commands(app, ctx);
  register_merge_command(app, ctx);
  register_exporter_command(app, ctx);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    std::ostringstream out, err;
    int rc = app.exit(e, out, err);
    env.console.out(out.str());
    if (rc == 0) {
      env.console.err(err.str());
      return 0;
    }
    // Which command failed to parse decides the exit code: `run` must not look like its job.
    bool wrapper = false;
    for (const CLI::App* sub : app.get_subcommands()) {
      wrapper = wrapper || sub->get_name() == "run" || sub->get_name() == "exporter";
    }
    ctx.fail(
        Error(fmt::format(
            "{} (see `carbonclock{} --help`)", e.what(),
            app.get_subcommands().empty() ? "" : " " + app.get_subcommands().front()->get_name())),
        wrapper ? CommandKind::kJobWrapper : CommandKind::kTool);
    return ctx.exit_code;
  }
  return ctx.exit_code;
}

}  // namespace carbonclock::cli
