#include "app/schedule.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "app/store_access.h"
#include "common/strings.h"
#include "common/units.h"
#include "execution/schedule_record.h"
#include "execution/watchdog.h"
#include "grid/live_source.h"
#include "intensity/intensity_provider.h"

namespace carbonclock {
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

/// A forecast fetched for planning.
struct FetchedForecast {
  Signal signal = Signal::kAverage;
  Factor factor = Factor::kLifecycle;
  std::string note;  ///< what was fetched, or that the cache served
};

/// Fetches `source`'s current forecast for the zone into `store` (credentials and base URLs as
/// for `grid fetch`; a forecast issued recently enough is reused without a request). WattTime is
/// asked for the zone's WattTime region; the provider finds it there.
Result<FetchedForecast> fetch_planning_forecast(const std::string& source,
                                                const ZoneSelection& zone, GridStore& store,
                                                SysTime from, SysTime to, AppContext& ctx) {
  auto kind = parse_live_source(source);
  if (!kind) return kind.error().with_context("--forecast-source");
  if (ctx.http == nullptr) return make_error(ErrorCode::kUnavailable, "no network transport");
  FetchRequest request;
  request.source = *kind;
  request.zone = zone.zone;
  request.from = from;
  request.to = to;
  request.forecast = true;
  if (*kind == LiveSourceKind::kWattTime) {
    if (zone.watttime_region.empty()) {
      return make_error("no WattTime region is known for zone {} (see `carbonclock regions`)",
                        zone.zone);
    }
    request.zone = zone.watttime_region;
  }
  auto settings = load_live_settings(ctx.env, default_config_path(ctx.env));
  if (!settings) return settings.error();
  LiveSource live(*ctx.http, *settings, ctx.clock);
  auto report = live.fetch(request, store);
  if (!report) return report.error();
  FetchedForecast out;
  out.signal = report->query.signal.value_or(Signal::kAverage);
  out.factor = report->query.factor.value_or(Factor::kLifecycle);
  out.note =
      fmt::format("{} forecast for {} ({}/{}): {}", to_string(*kind), report->query.zone,
                  to_string(out.signal), to_string(out.factor),
                  report->from_cache ? "recent enough in the store, no request made" : "fetched");
  return out;
}

/// Opens the planning store (the default only when it exists; created for a forecast fetch)
/// and fetches the forecast when asked; a failed fetch is a warning.
Result<OpenedStore> planning_store(const ScheduleArgs& args, const ZoneSelection& zone,
                                   const std::string& db, ScheduleSpec& spec, AppContext& ctx) {
  const bool fetch = !args.forecast_source.empty() && args.intensity_file.empty();
  auto opened = open_store(db, fetch ? StoreMode::kCreate : StoreMode::kIfExists, ctx.env);
  if (!opened) return opened.error();
  if (!fetch) return opened;
  auto fetched = fetch_planning_forecast(args.forecast_source, zone, *opened->get(),
                                         spec.requested_start_utc, spec.deadline_utc, ctx);
  if (fetched) {
    if (!spec.signal) spec.signal = fetched->signal;
    if (!spec.factor) spec.factor = fetched->factor;
    ctx.observer.note(fetched->note);
  } else {
    ctx.observer.warning("no fresh forecast, planning on stored data: " +
                         fetched.error().message());
  }
  return opened;
}

IntensityProvider::Options provider_options(const ScheduleArgs& args, const ScheduleSpec& spec) {
  IntensityProvider::Options o;
  if (!args.intensity_file.empty()) o.intensity_file = args.intensity_file;
  o.file_anchor = floor_to(spec.requested_start_utc, spec.slot);
  o.risk = spec.risk;
  return o;
}

/// The intensity function the executor re-reads at every slot boundary.
IntensityFn intensity_fn(IntensityProvider& provider, ZoneSelection zone, ScheduleSpec spec) {
  return [&provider, zone, spec](SysTime as_of, SysTime from, SysTime to) {
    provider.reload();  // a forecast fetched meanwhile (cron) is seen at the next slot
    return provider.planning(zone, spec.signal, spec.factor, spec.slot, as_of, from, to);
  };
}

ZonePlan plan_zone(IntensityProvider& provider, const ZoneSelection& zone, const ScheduleSpec& spec,
                   double energy_kwh) {
  ZonePlan out;
  out.zone = zone.zone;
  if (Status s = provider.check_zone(zone); !s) {
    out.error = s.error();
    return out;
  }
  ManualClock clock(spec.requested_start_utc);  // plans as of now; nothing waits
  Executor ex({spec.algorithm, spec.deadline_utc, spec.expected_duration},
              intensity_fn(provider, zone, spec), clock);
  if (Status s = ex.plan(); !s) {
    out.error = s.error();
    return out;
  }
  out.decision = ex.first_decision();
  out.intensity = ex.first_intensity();
  out.risk = risk_use(out.intensity, spec.risk);
  double duration_s = to_seconds(spec.expected_duration);
  out.runs = planned_runs(out.decision, duration_s);
  // Constant power: energy_kwh / duration_s per second of running.
  out.expected_g = energy_kwh / duration_s * out.decision.planned_is;
  out.immediate_g = energy_kwh / duration_s * out.decision.immediate_is;
  return out;
}

/// Adds a countdown while the job waits; passes everything else through.
class ObservedControl final : public JobControl {
 public:
  ObservedControl(JobControl& inner, Clock& clock, ScheduleObserver& observer,
                  const ExecutionStatus& latest)
      : inner_(inner), clock_(clock), observer_(observer), latest_(latest) {}
  ~ObservedControl() override {
    if (waited_) observer_.waiting_done();
  }
  WaitResult wait_until(SysTime until) override {
    if (latest_.running) return tell(inner_.wait_until(until));
    for (;;) {
      SysTime now = clock_.system_now();
      observer_.waiting(now, latest_.next_run_utc, latest_.expected_saving_pct);
      waited_ = true;
      // Called even when `until` has passed: pending signals are taken every time.
      WaitResult r = inner_.wait_until(std::min(until, now + std::chrono::seconds(1)));
      if (r.exit || r.forwarded_signal != 0 || r.resumed_at) return tell(std::move(r));
      if (clock_.system_now() >= until) return r;
    }
  }
  Result<PauseOutcome> pause(SysTime latest_resume_utc) override {
    auto p = inner_.pause(latest_resume_utc);
    if (!p) observer_.warning(p.error().message() + "; the job runs straight through to the end");
    return p;
  }
  Result<ResumeOutcome> resume() override { return inner_.resume(); }

 private:
  WaitResult tell(WaitResult r) {
    if (r.safety_lost) {
      observer_.warning(r.resumed_note);
    } else if (r.resumed_at) {
      observer_.note(r.resumed_note);
    }
    return r;
  }
  JobControl& inner_;
  Clock& clock_;
  ScheduleObserver& observer_;
  const ExecutionStatus& latest_;
  bool waited_ = false;
};

/// Slots from the one holding `now` to the one holding the deadline.
int64_t window_slots(SysTime now, SysTime deadline, Nanos slot) {
  if (deadline <= now) return 0;
  Nanos span = deadline - floor_to(now, slot);
  return (span.count() + slot.count() - 1) / slot.count();
}

/// Refuses a window too large to re-plan at every slot boundary (see kMaxPlanSlots), naming
/// the shortest slot that would do.
Status check_plan_size(const ScheduleSpec& s, SysTime now, const std::string& option,
                       const std::string& slot_text) {
  int64_t slots = window_slots(now, s.deadline_utc, s.slot);
  int64_t limit = max_plan_slots(s.slot);
  if (slots <= limit) return {};
  int64_t slot_s = std::max<int64_t>(1, std::chrono::ceil<Seconds>(s.slot).count());
  while (window_slots(now, s.deadline_utc, Seconds(slot_s)) > max_plan_slots(Seconds(slot_s))) {
    slot_s = slot_s < 60 ? slot_s + 1 : (slot_s / 60 + 1) * 60;
  }
  return make_error(
      "{} with --slot {}: the window up to the deadline {} holds {} slots, and carbonclock "
      "re-plans every slot left at each slot boundary; that must take a small share of a slot, "
      "so at most {} per second of slot length and {} in all are planned. Use --slot {} or "
      "longer, or a shorter window",
      option, slot_text, format_utc(s.deadline_utc), slots, kMaxPlanSlotsPerSlotSecond,
      kMaxPlanSlots, format_duration(Seconds(slot_s)));
}

}  // namespace

Result<ScheduleSpec> parse_schedule(const ScheduleArgs& a, Nanos expected, SysTime now) {
  ScheduleSpec s;
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
    if (!sig) return sig.error().with_context("--signal");
    s.signal = *sig;
  }
  if (!a.factor.empty()) {
    auto f = parse_factor(a.factor);
    if (!f) return f.error().with_context("--factor");
    s.factor = *f;
  }
  if (!a.risk.empty()) {
    auto q = parse_forecast_quantile(to_lower(trim(a.risk)));
    if (!q) return q.error().with_context("--risk");
    s.risk = *q;
    if (s.risk != ForecastQuantile::kPoint && !a.intensity_file.empty()) {
      return make_error(
          "--risk {}: --intensity-file gives the values to plan on, without prediction "
          "intervals; --risk applies to carbonclock's own forecast (drop one of the two)",
          a.risk);
    }
  }
  if (a.deadline_mode != "pause-resume" && a.deadline_mode != "flex-start") {
    return make_error("--deadline-mode '{}': pause-resume or flex-start", a.deadline_mode);
  }
  std::string option;
  if (!a.deadline.empty()) {
    auto d = parse_deadline(a.deadline, now);
    if (!d) return d.error();
    s.algorithm =
        a.deadline_mode == "flex-start" ? Algorithm::kFlexibleStart : Algorithm::kPauseResume;
    s.deadline_utc = *d;
    s.window = "deadline";
    option = "--deadline " + a.deadline;
  } else {
    s.algorithm = a.flex_start.empty() ? Algorithm::kPauseResume : Algorithm::kFlexibleStart;
    const std::string& text = a.flex_start.empty() ? a.pause_resume : a.flex_start;
    option = (a.flex_start.empty() ? "--pause-resume " : "--flex-start ") + text;
    auto w = parse_window(text);
    if (!w) {
      return w.error().with_context(a.flex_start.empty() ? "--pause-resume" : "--flex-start");
    }
    Nanos n = w->absolute ? *w->absolute : from_seconds(to_seconds(expected) * w->percent / 100.0);
    s.window = w->label;
    s.deadline_utc = now + expected + n;
  }
  if (Status st = check_plan_size(s, now, option, a.slot); !st) return st.error();
  return s;
}

int64_t max_plan_slots(Nanos slot) {
  double per_slot_second = static_cast<double>(kMaxPlanSlotsPerSlotSecond) * to_seconds(slot);
  return static_cast<int64_t>(std::min<double>(kMaxPlanSlots, per_slot_second));
}

RiskUse risk_use(const SlottedIntensity& intensity, ForecastQuantile quantile) {
  RiskUse out;
  out.quantile = quantile;
  out.slots = intensity.size();
  if (quantile == ForecastQuantile::kPoint) return out;
  // carbonclock's own forecast planned on a quantile is labelled "carbonclock-forecast-MODEL-pN"
  // (forecasting/forecaster.h to_series); anything else has no interval.
  const std::string suffix = std::string("-") + to_string(quantile);
  auto on_quantile = [&](const Provenance& p) {
    return p.basis == IntensityBasis::kOwnForecast && p.source.size() > suffix.size() &&
           p.source.compare(p.source.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  std::vector<std::pair<std::string, size_t>> others;  // label, slots; in order of appearance
  std::string model;
  for (size_t i = 0; i < intensity.size(); ++i) {
    if (!intensity.covered[i]) continue;
    Provenance p = intensity.provenance_of(i);
    if (on_quantile(p)) {
      ++out.on_quantile;
      if (model.empty()) model = p.source;
      continue;
    }
    std::string label = p.label();
    auto it = std::ranges::find(others, label, &std::pair<std::string, size_t>::first);
    if (it == others.end()) {
      others.emplace_back(label, 1);
    } else {
      ++it->second;
    }
  }
  const char* q = to_string(quantile);
  if (out.on_quantile > 0) {
    out.text = fmt::format("planned on {} of carbonclock's own forecast ({}) for {} of {} slots", q,
                           model, out.on_quantile, out.slots);
  }
  for (const auto& [label, n] : others) {
    if (!out.text.empty()) out.text += "; ";
    out.text += fmt::format(
        "--risk {}: {} of {} slots rest on {}, which has no prediction interval: planned on its "
        "values as they are",
        q, n, out.slots, label);
  }
  return out;
}

nlohmann::ordered_json risk_to_json(const RiskUse& risk) {
  return {{"quantile", to_string(risk.quantile)},
          {"slots", risk.slots},
          {"slots_on_quantile", risk.on_quantile},
          {"note", risk.text}};
}

double ZonePlan::saving_pct() const {
  return immediate_g > 0 ? 100.0 * (immediate_g - expected_g) / immediate_g : 0.0;
}

Result<PlanResult> plan_job(const PlanRequest& r, AppContext& ctx) {
  auto sel = select_zone(r.region, r.zone);
  if (!sel) return sel.error();
  PlanResult out;
  SysTime now = ctx.clock.system_now();
  std::optional<double> energy_kwh = r.energy_kwh;
  if (energy_kwh && !(std::isfinite(*energy_kwh) && *energy_kwh >= 0)) {
    return make_error("--energy-kwh {} must be a finite number >= 0", *energy_kwh);
  }
  if (!r.profile.empty()) {
    if (!r.duration.empty()) return make_error("give --profile RUN_DIR or --duration D, not both");
    auto run = load_run(r.profile);
    if (!run) return run.error();
    out.duration = run->end_utc - run->start_utc;
    if (!energy_kwh) energy_kwh = run->timeline.total_j() / kJoulesPerKwh;
    out.profile_note = fmt::format("profile: {} ({}, {:.4f} kWh) laid flat", r.profile,
                                   format_duration(out.duration), *energy_kwh);
  } else {
    if (r.duration.empty() || !energy_kwh) {
      return make_error("give --duration D and --energy-kwh E, or --profile RUN_DIR");
    }
    auto d = parse_duration(r.duration);
    if (!d) return d.error().with_context("--duration");
    out.duration = *d;
  }
  out.energy_kwh = *energy_kwh;
  auto spec = parse_schedule(r.schedule, out.duration, now);
  if (!spec) return spec.error();
  std::vector<ZoneSelection> others;
  for (const std::string& z : split_list(r.zones)) {
    auto zs = select_zone(std::nullopt, z);
    if (!zs) return zs.error();
    others.push_back(std::move(*zs));
  }
  auto opened = planning_store(r.schedule, *sel, r.db, *spec, ctx);
  if (!opened) return opened.error();
  out.spec = *spec;
  IntensityProvider provider(opened->get(), provider_options(r.schedule, out.spec));
  out.home = plan_zone(provider, *sel, out.spec, out.energy_kwh);
  if (out.home.error) return *out.home.error;
  // The scripted file describes the home zone only.
  IntensityProvider stored_only(opened->get());
  for (const ZoneSelection& z : others) {
    out.others.push_back(plan_zone(stored_only, z, out.spec, out.energy_kwh));
  }
  return out;
}

// ---- ScheduledRun ------------------------------------------------------------------------

struct ScheduledRun::State {
  explicit State(AppContext& c, ScheduleObserver& o) : ctx(c), observer(o) {}
  AppContext& ctx;
  ScheduleObserver& observer;
  ScheduleArgs args;
  ScheduleSpec spec;
  ZoneSelection zone;
  OpenedStore opened;
  std::unique_ptr<IntensityProvider> provider;
  std::unique_ptr<Executor> executor;
  std::optional<Watchdog> watchdog;
  PauseMethod pause;
  RiskUse risk;  ///< what --risk did to the first plan
  ExecutionStatus latest;
  std::string outcome;
};

ScheduledRun::~ScheduledRun() = default;

Result<std::unique_ptr<ScheduledRun>> ScheduledRun::prepare(const ScheduleArgs& args,
                                                            const ZoneSelection& zone,
                                                            const std::string& db, AppContext& ctx,
                                                            ScheduleObserver& observer) {
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
  run->s_ = std::make_unique<State>(ctx, observer);
  State& s = *run->s_;
  s.args = args;
  s.zone = zone;
  if (args.expected_duration.empty()) {
    return make_error(
        "--expected-duration D is required with --flex-start, --pause-resume or --deadline "
        "(the job's running time; e.g. 2h)");
  }
  auto expected = parse_duration(args.expected_duration);
  if (!expected) return expected.error().with_context("--expected-duration");
  auto spec = parse_schedule(args, *expected, ctx.clock.system_now());
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
  auto opened = planning_store(args, zone, db, s.spec, ctx);
  if (!opened) return opened.error();
  s.opened = std::move(*opened);
  s.provider = std::make_unique<IntensityProvider>(s.opened.get(), provider_options(args, s.spec));
  State* state = &s;
  s.executor = std::make_unique<Executor>(
      ExecutionOptions{s.spec.algorithm, s.spec.deadline_utc, s.spec.expected_duration},
      intensity_fn(*s.provider, zone, s.spec), ctx.clock,
      [state](const ExecutionStatus& st) { state->latest = st; });
  if (Status p = s.executor->plan(); !p) return p.error();
  s.risk = risk_use(s.executor->first_intensity(), s.spec.risk);
  auto dog = Watchdog::start(s.pause.resume_command);
  if (!dog) return dog.error();
  s.watchdog = std::move(*dog);
  return run;
}

std::string ScheduledRun::plan_summary() const {
  const State& s = *s_;
  const Decision& d = s.executor->first_decision();
  std::string out = fmt::format(
      "{} {}: deadline {}; planned runs: {}; expected saving {:.1f} % against starting now\n"
      "intensity: {}",
      to_string(s.spec.algorithm), s.spec.window, format_utc(s.spec.deadline_utc),
      runs_text(planned_runs(d, to_seconds(s.spec.expected_duration))),
      d.immediate_is > 0 ? 100.0 * (1 - d.planned_is / d.immediate_is) : 0.0,
      s.executor->first_intensity().describe());
  if (!s.risk.text.empty()) out += "\nrisk: " + s.risk.text;
  for (const auto& n : s.executor->first_intensity().notes) out += "\nnote: " + n;
  return out;
}

int ScheduledRun::wait_for_start() {
  Supervisor idle;  // no job yet: waiting only watches for signals
  ProcessJobControl control(idle, nullptr, s_->ctx.clock, s_->pause);
  ObservedControl observed(control, s_->ctx.clock, s_->observer, s_->latest);
  return s_->executor->wait_for_start(observed);
}

void ScheduledRun::configure(Supervisor& supervisor) { supervisor.set_new_session(true); }

JobExit ScheduledRun::execute(Supervisor& supervisor, std::function<void(pid_t)> on_restart) {
  ProcessJobControl control(supervisor, &*s_->watchdog, s_->ctx.clock, s_->pause);
  control.set_on_restart(std::move(on_restart));
  control.job_started();
  ObservedControl observed(control, s_->ctx.clock, s_->observer, s_->latest);
  JobExit exit = s_->executor->supervise(observed);
  if (!s_->executor->resume_error().empty()) s_->observer.warning(s_->executor->resume_error());
  return exit;
}

void ScheduledRun::record(RunRecord& run) {
  State& s = *s_;
  ScheduleRequest request{s.spec.window, s.spec.requested_start_utc, s.pause};
  ExecutionOptions options{s.spec.algorithm, s.spec.deadline_utc, s.spec.expected_duration};
  nlohmann::json schedule = schedule_to_json(request, options, *s.executor);
  schedule["plan"]["risk"] = risk_to_json(s.risk);  // what the first plan was planned on
  run.schedule = schedule;
  // Savings: stored actuals when they cover the run (rare at its end), else what was planned on.
  SysTime from = floor_to(s.spec.requested_start_utc, s.spec.slot);
  SysTime to = std::max(run.end_utc, s.spec.requested_start_utc + (run.end_utc - run.start_utc)) +
               s.spec.slot;
  std::optional<ScheduleSavings> savings;
  std::string basis;
  s.provider->reload();
  auto actual = s.provider->actuals(s.zone, s.spec.signal.value_or(Signal::kAverage), s.spec.factor,
                                    from, to, Fallback::kNone);
  if (actual && !actual->points.empty()) {
    if (auto sv = schedule_savings(run, actual->as_series()); sv) {
      savings = *sv;
      basis = "actual";
    }
  }
  std::string problem;
  if (!savings) {
    auto planned = s.provider->planning(s.zone, s.spec.signal, s.spec.factor, s.spec.slot,
                                        s.ctx.clock.system_now(), from, to);
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
    (*run.schedule)["savings"] = savings_to_json(*savings, basis, s.ctx.clock.system_now());
  } else {
    run.warnings.push_back("schedule savings not computed: " + problem);
  }
  size_t pauses = schedule.value("pauses", size_t{0});
  s.outcome = fmt::format("schedule: ran {}; {} pause{}", runs_text(s.executor->running()), pauses,
                          pauses == 1 ? "" : "s");
  if (savings) {
    s.outcome += fmt::format(
        "; saved {:.3f} g ({:.1f} %) against starting at {} (intensity: {}; `carbonclock "
        "report` recomputes it from actuals)",
        savings->saved_g, savings->saved_pct, format_utc(s.spec.requested_start_utc), basis);
  }
}

std::string ScheduledRun::outcome_summary() const { return s_->outcome; }

}  // namespace carbonclock
