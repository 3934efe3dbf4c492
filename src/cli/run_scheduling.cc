#include "cli/run_scheduling.h"

#include <fmt/format.h>
#include <unistd.h>

#include <filesystem>

#include "accounting/accounting.h"
#include "cli/commands.h"
#include "grid/live_source.h"
#include "http/http_transport.h"
#include "regions/catalogue.h"
#include "shifting/slots.h"

namespace carbonclock::cli {
namespace {

Result<SysTime> parse_deadline(const std::string& text, SysTime now) {
  if (!text.empty() && text.front() == '+') {
    auto d = parse_duration(text.substr(1));
    if (!d) return d.error().with_context("--deadline");
    return now + *d;
  }
  auto t = parse_utc(text);
  if (!t) return t.error().with_context("--deadline (a UTC time or +DURATION)");
  return *t;
}

std::string runs_text(const std::vector<RunInterval>& runs) {
  std::string out;
  for (const auto& r : runs) {
    if (!out.empty()) out += ", ";
    out += fmt::format("{}–{}", format_utc(r.start_utc), format_utc(r.end_utc));
  }
  return out;
}

/// Adds a countdown status line while the job waits; passes everything else through.
class StatusLineControl final : public JobControl {
 public:
  StatusLineControl(JobControl& inner, Clock& clock, bool enabled, const ExecutionStatus& latest)
      : inner_(inner), clock_(clock), enabled_(enabled), latest_(latest) {}
  ~StatusLineControl() override {
    if (printed_) fmt::print(stderr, "\r\033[K");
  }
  WaitResult wait_until(SysTime until) override {
    if (!enabled_ || latest_.running) return inner_.wait_until(until);
    for (;;) {
      SysTime now = clock_.system_now();
      if (now >= until) return {};
      Nanos left = std::chrono::floor<Seconds>(latest_.next_run_utc - now);
      fmt::print(stderr,
                 "\r\033[K[carbonclock] paused: next run in {} at {} (expected saving {:.1f} %)",
                 format_duration(std::max(left, Nanos(0))), format_utc(latest_.next_run_utc),
                 latest_.expected_saving_pct);
      std::fflush(stderr);
      printed_ = true;
      WaitResult r = inner_.wait_until(std::min(until, now + std::chrono::seconds(1)));
      if (r.exit || r.forwarded_signal != 0) return r;
    }
  }
  Result<PauseOutcome> pause() override { return inner_.pause(); }
  Status resume() override { return inner_.resume(); }

 private:
  JobControl& inner_;
  Clock& clock_;
  bool enabled_;
  const ExecutionStatus& latest_;
  bool printed_ = false;
};

}  // namespace

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
  cmd->add_option("--signal", a.signal, "Plan on marginal | average intensity (default average)")
      ->group(group);
  cmd->add_option("--factor", a.factor, "lifecycle | direct (default lifecycle, else stored)")
      ->group(group);
  cmd->add_option("--forecast-source", a.forecast_source,
                  "Fetch this provider's current forecast before planning: watttime, "
                  "electricitymaps or ukci (credentials as for `grid fetch`); on failure, plan "
                  "on stored data and say so")
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

Result<ScheduleRequestSpec> parse_schedule(const ScheduleArgs& a, Nanos expected, SysTime now) {
  ScheduleRequestSpec s;
  s.requested_start_utc = now;
  s.expected_duration = expected;
  int given = (!a.flex_start.empty()) + (!a.pause_resume.empty()) + (!a.deadline.empty());
  if (given != 1) {
    return make_error("give exactly one of --flex-start N, --pause-resume N or --deadline T");
  }
  if (expected <= Nanos(0)) return make_error("the job's duration must be positive");
  auto slot = parse_duration(a.slot);
  if (!slot) return slot.error().with_context("--slot");
  if (*slot < std::chrono::seconds(1)) return make_error("--slot must be at least 1s");
  s.slot = *slot;
  if (!a.signal.empty()) {
    auto sig = parse_signal(a.signal);
    if (!sig) return sig.error();
    s.signal = *sig;
  }
  if (!a.factor.empty()) {
    auto f = parse_factor(a.factor);
    if (!f) return f.error();
    s.factor = *f;
  }
  if (!a.deadline.empty()) {
    auto d = parse_deadline(a.deadline, now);
    if (!d) return d.error();
    s.algorithm =
        a.deadline_mode == "flex-start" ? Algorithm::kFlexibleStart : Algorithm::kPauseResume;
    s.deadline_utc = *d;
    s.window = "deadline";
    return s;
  }
  s.algorithm = a.flex_start.empty() ? Algorithm::kPauseResume : Algorithm::kFlexibleStart;
  const std::string& text = a.flex_start.empty() ? a.pause_resume : a.flex_start;
  auto w = parse_window(text);
  if (!w) return w.error().with_context(a.flex_start.empty() ? "--pause-resume" : "--flex-start");
  Nanos n = w->absolute ? *w->absolute : from_seconds(to_seconds(expected) * w->percent / 100.0);
  s.window = w->label;
  s.deadline_utc = now + expected + n;
  return s;
}

Result<std::optional<GridStore>> open_planning_store(const std::string& db) {
  // A --db given is opened (created if new); the default database only when it exists.
  auto opened = open_grid_store(db, /*create=*/!db.empty());
  if (!opened) return opened.error();
  return std::move(opened->store);
}

Result<FetchedForecast> fetch_planning_forecast(const std::string& source, const std::string& zone,
                                                GridStore& store, SysTime from, SysTime to) {
  auto kind = parse_live_source(source);
  if (!kind) return kind.error().with_context("--forecast-source");
  FetchRequest request;
  request.source = *kind;
  request.zone = zone;
  request.from = from;
  request.to = to;
  request.forecast = true;
  if (*kind == LiveSourceKind::kWattTime) {
    // WattTime speaks its own region ids; the catalogue maps grid zones to them.
    auto sel = select_zone(std::nullopt, zone);
    if (!sel) return sel.error();
    if (sel->watttime_region.empty()) {
      return make_error("no WattTime region is known for zone {} (see `carbonclock regions`)",
                        zone);
    }
    request.zone = sel->watttime_region;
  }
  auto settings = load_live_settings(process_env, default_config_path(process_env));
  if (!settings) return settings.error();
  CurlTransport transport;
  RealClock clock;
  LiveSource live(transport, *settings, clock);
  auto report = live.fetch(request, store);
  if (!report) return report.error();
  FetchedForecast out;
  out.store_zone = report->query.zone;
  out.signal = report->query.signal.value_or(Signal::kAverage);
  out.factor = report->query.factor.value_or(Factor::kLifecycle);
  out.note =
      fmt::format("{} forecast for {} ({}/{}): {}", to_string(*kind), out.store_zone,
                  to_string(out.signal), to_string(out.factor),
                  report->from_cache ? "recent enough in the store, no request made" : "fetched");
  return out;
}

void use_fetched_forecast(const FetchedForecast& fetched, IntensitySources& sources) {
  if (fetched.store_zone != sources.zone) sources.store_zone = fetched.store_zone;
  if (!sources.signal) sources.signal = fetched.signal;
  if (!sources.factor) sources.factor = fetched.factor;
}

IntensityFn make_intensity_fn(IntensitySources sources) {
  return [sources](SysTime as_of, SysTime from, SysTime to) {
    return planning_intensity(sources, as_of, from, to);
  };
}

struct ScheduledRun::State {
  ScheduleArgs args;
  ScheduleRequestSpec spec;
  std::optional<GridStore> store;
  IntensitySources sources;
  RealClock clock;
  std::unique_ptr<Executor> executor;
  std::optional<Watchdog> watchdog;
  PauseMethod pause;
  bool quiet = false;
  bool status_line = false;
  ExecutionStatus latest;
};

ScheduledRun::~ScheduledRun() = default;

Result<std::unique_ptr<ScheduledRun>> ScheduledRun::prepare(const ScheduleArgs& args,
                                                            const std::string& zone,
                                                            const std::string& db, bool quiet) {
  if (!args.active()) {
    if (!args.pause_signal.empty() || !args.resume_command.empty() ||
        !args.expected_duration.empty()) {
      return make_error(
          "--expected-duration, --pause-signal and --resume-command need --flex-start, "
          "--pause-resume or --deadline");
    }
    return std::unique_ptr<ScheduledRun>();
  }
  std::unique_ptr<ScheduledRun> run(new ScheduledRun());
  run->s_ = std::make_unique<State>();
  State& s = *run->s_;
  s.args = args;
  s.quiet = quiet;
  s.status_line = !quiet && ::isatty(STDERR_FILENO);
  if (args.expected_duration.empty()) {
    return make_error(
        "--expected-duration D is required with --flex-start, --pause-resume or --deadline "
        "(the job's running time; e.g. 2h)");
  }
  auto expected = parse_duration(args.expected_duration);
  if (!expected) return expected.error().with_context("--expected-duration");
  auto spec = parse_schedule(args, *expected, s.clock.system_now());
  if (!spec) return spec.error();
  s.spec = *spec;
  if (args.pause_signal.empty() != args.resume_command.empty()) {
    return make_error(
        "--pause-signal and --resume-command go together: the signal makes the job checkpoint "
        "and exit, the command restarts it from the checkpoint");
  }
  if (!args.pause_signal.empty()) {
    auto sig = parse_signal_name(args.pause_signal);
    if (!sig) return sig.error().with_context("--pause-signal");
    auto grace = parse_duration(args.pause_grace);
    if (!grace) return grace.error().with_context("--pause-grace");
    s.pause = {*sig, {"/bin/sh", "-c", args.resume_command}, *grace};
  }
  auto store = open_planning_store(db);
  if (!store) return store.error();
  s.store = std::move(*store);
  s.sources.zone = zone;
  s.sources.signal = s.spec.signal;
  s.sources.factor = s.spec.factor;
  s.sources.slot = s.spec.slot;
  if (!args.intensity_file.empty()) s.sources.intensity_file = args.intensity_file;
  s.sources.file_anchor = floor_to(s.spec.requested_start_utc, s.spec.slot);
  if (!args.forecast_source.empty() && args.intensity_file.empty()) {
    if (!s.store) {
      auto created = GridStore::open_or_default(db);
      if (!created) return created.error();
      s.store = std::move(*created);
    }
    auto fetched = fetch_planning_forecast(args.forecast_source, zone, *s.store,
                                           s.spec.requested_start_utc, s.spec.deadline_utc);
    if (fetched) {
      use_fetched_forecast(*fetched, s.sources);
      if (!quiet) fmt::print(stderr, "carbonclock: {}\n", fetched->note);
    } else {
      fmt::print(stderr, "carbonclock: warning: no fresh forecast, planning on stored data: {}\n",
                 fetched.error().message());
    }
  }
  s.sources.store = s.store ? &*s.store : nullptr;
  State* state = &s;
  s.executor = std::make_unique<Executor>(
      ExecutionOptions{s.spec.algorithm, s.spec.deadline_utc, s.spec.expected_duration},
      make_intensity_fn(s.sources), s.clock,
      [state](const ExecutionStatus& st) { state->latest = st; });
  if (Status p = s.executor->plan(); !p) return p.error();
  auto dog = Watchdog::start(s.pause.resume_command);
  if (!dog) return dog.error();
  s.watchdog = std::move(*dog);
  if (!quiet) {
    const Decision& d = s.executor->first_decision();
    fmt::print(stderr,
               "carbonclock: {} {}: deadline {}; planned runs: {}; expected saving {:.1f} % "
               "against starting now\ncarbonclock: intensity: {}\n",
               to_string(s.spec.algorithm), s.spec.window, format_utc(s.spec.deadline_utc),
               runs_text(planned_runs(d, to_seconds(s.spec.expected_duration))),
               d.immediate_is > 0 ? 100.0 * (1 - d.planned_is / d.immediate_is) : 0.0,
               s.executor->first_intensity().describe());
    for (const auto& n : s.executor->first_intensity().notes) {
      fmt::print(stderr, "carbonclock: note: {}\n", n);
    }
  }
  return run;
}

int ScheduledRun::wait_for_start() {
  Supervisor idle;  // no job yet: waiting only watches for signals
  ProcessJobControl control(idle, nullptr, s_->clock, s_->pause);
  StatusLineControl line(control, s_->clock, s_->status_line, s_->latest);
  return s_->executor->wait_for_start(line);
}

void ScheduledRun::configure(Supervisor& supervisor) { supervisor.set_new_session(true); }

JobExit ScheduledRun::execute(Supervisor& supervisor, std::function<void(pid_t)> on_restart) {
  ProcessJobControl control(supervisor, &*s_->watchdog, s_->clock, s_->pause);
  control.set_on_restart(std::move(on_restart));
  control.job_started();
  StatusLineControl line(control, s_->clock, s_->status_line, s_->latest);
  JobExit exit = s_->executor->supervise(line);
  if (!s_->executor->resume_error().empty()) print_error(s_->executor->resume_error());
  return exit;
}

void ScheduledRun::record(RunRecord& run) {
  State& s = *s_;
  ScheduleRequest request{s.spec.window, s.spec.requested_start_utc, s.pause};
  ExecutionOptions options{s.spec.algorithm, s.spec.deadline_utc, s.spec.expected_duration};
  nlohmann::json schedule = schedule_to_json(request, options, *s.executor);
  run.schedule = schedule;
  // Savings: stored actuals when they cover the run (rare at its end), else what was planned on.
  SysTime from = floor_to(s.spec.requested_start_utc, s.spec.slot);
  SysTime to = std::max(run.end_utc, s.spec.requested_start_utc + (run.end_utc - run.start_utc)) +
               s.spec.slot;
  std::optional<ScheduleSavings> savings;
  std::string basis;
  if (s.store) {
    SeriesQuery query{s.sources.zone, s.spec.signal, s.spec.factor};
    if (auto actual = s.store->read(query, from, to); actual && !actual->points.empty()) {
      if (auto sv = schedule_savings(run, *actual); sv) {
        savings = *sv;
        basis = "actual";
      }
    }
  }
  std::string problem;
  if (!savings) {
    auto planned = planning_intensity(s.sources, s.clock.system_now(), from, to);
    if (planned) {
      auto sv = schedule_savings(run, planning_series(*planned));
      if (sv) {
        savings = *sv;
        basis = planned->describe();
      } else {
        problem = sv.error().message();
      }
    } else {
      problem = planned.error().message();
    }
  }
  if (savings) {
    (*run.schedule)["savings"] = savings_to_json(*savings, basis, s.clock.system_now());
  } else {
    run.warnings.push_back("schedule savings not computed: " + problem);
  }
  if (!s.quiet) {
    size_t pauses = schedule.value("pauses", size_t{0});
    fmt::print(stderr, "carbonclock: schedule: ran {}; {} pause{}",
               runs_text(s.executor->running()), pauses, pauses == 1 ? "" : "s");
    if (savings) {
      fmt::print(stderr,
                 "; saved {:.3f} g ({:.1f} %) against starting at {} (intensity: {}; `carbonclock "
                 "report` recomputes it from actuals)\n",
                 savings->saved_g, savings->saved_pct, format_utc(s.spec.requested_start_utc),
                 basis);
    } else {
      fmt::print(stderr, "\n");
    }
  }
}

}  // namespace carbonclock::cli
