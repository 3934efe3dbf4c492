// carbonclock plan: print a carbon-aware plan (Flexible Start or Pause and Resume) for a job
// without running anything: text, JSON, or the --begin option for Slurm's sbatch.
#include <fmt/format.h>

#include <ctime>
#include <memory>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/run_scheduling.h"
#include "common/json_text.h"
#include "metering/run_record.h"
#include "regions/catalogue.h"

namespace carbonclock::cli {
namespace {

using ojson = nlohmann::ordered_json;

struct PlanOptions {
  std::optional<std::string> zone, region;
  std::string zones;
  std::string duration;
  double energy_kwh = -1;
  std::string profile;
  std::string db;
  std::string format = "text";
  ScheduleArgs schedule;
};

/// One zone's plan.
struct ZonePlan {
  std::string zone;
  std::optional<Error> error;
  Decision decision;
  PlanningIntensity intensity;
  std::vector<RunInterval> runs;
  double expected_g = 0;
  double immediate_g = 0;
};

ZonePlan plan_zone(const std::string& zone, const ScheduleRequestSpec& spec, GridStore* store,
                   const std::string& intensity_file, double energy_kwh,
                   const FetchedForecast* fetched = nullptr) {
  ZonePlan out;
  out.zone = zone;
  IntensitySources src;
  src.zone = zone;
  src.signal = spec.signal;
  src.factor = spec.factor;
  src.slot = spec.slot;
  if (!intensity_file.empty()) src.intensity_file = intensity_file;
  src.file_anchor = floor_to(spec.requested_start_utc, spec.slot);
  src.store = store;
  if (fetched != nullptr) use_fetched_forecast(*fetched, src);
  ManualClock clock(spec.requested_start_utc);  // plans as of now; nothing waits
  Executor ex({spec.algorithm, spec.deadline_utc, spec.expected_duration}, make_intensity_fn(src),
              clock);
  if (Status s = ex.plan(); !s) {
    out.error = s.error();
    return out;
  }
  out.decision = ex.first_decision();
  out.intensity = ex.first_intensity();
  double duration_s = to_seconds(spec.expected_duration);
  out.runs = planned_runs(out.decision, duration_s);
  // Constant power: energy_kwh / duration_s per second of running.
  out.expected_g = energy_kwh / duration_s * out.decision.planned_is;
  out.immediate_g = energy_kwh / duration_s * out.decision.immediate_is;
  return out;
}

double saving_pct(const ZonePlan& z) {
  return z.immediate_g > 0 ? 100.0 * (z.immediate_g - z.expected_g) / z.immediate_g : 0.0;
}

std::string local_begin(SysTime t, std::string* zone_text) {
  std::time_t tt = std::chrono::system_clock::to_time_t(
      std::chrono::ceil<Seconds>(t));  // never before the planned instant
  std::tm local{};
  ::localtime_r(&tt, &local);
  char buf[64], zbuf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &local);
  std::strftime(zbuf, sizeof zbuf, "%Z, UTC%z", &local);
  *zone_text = zbuf;
  return buf;
}

ojson runs_json(const std::vector<RunInterval>& runs) {
  ojson a = ojson::array();
  for (const auto& r : runs) {
    a.push_back({{"start_utc", format_utc(r.start_utc)}, {"end_utc", format_utc(r.end_utc)}});
  }
  return a;
}

int run_plan(const PlanOptions& o) {
  auto sel = select_zone(o.region, o.zone);
  if (!sel) return print_error(sel.error().message()), 2;
  SysTime now = std::chrono::system_clock::now();
  Nanos duration{};
  double energy_kwh = o.energy_kwh;
  std::string profile_note;
  if (!o.profile.empty()) {
    auto run = load_run(o.profile);
    if (!run) return print_error(run.error().message()), 2;
    duration = run->end_utc - run->start_utc;
    if (energy_kwh < 0) energy_kwh = run->timeline.total_j() / 3.6e6;
    profile_note = fmt::format("profile: {} ({} , {:.4f} kWh) laid flat", o.profile,
                               format_duration(duration), energy_kwh);
  } else {
    if (o.duration.empty() || energy_kwh < 0) {
      return print_error("give --duration D and --energy-kwh E, or --profile RUN_DIR"), 2;
    }
    auto d = parse_duration(o.duration);
    if (!d) return print_error(d.error().with_context("--duration").message()), 2;
    duration = *d;
  }
  auto spec = parse_schedule(o.schedule, duration, now);
  if (!spec) return print_error(spec.error().message()), 2;
  auto store = open_planning_store(o.db);
  if (!store) return print_error(store.error().message()), 2;
  std::optional<FetchedForecast> fetched;
  if (!o.schedule.forecast_source.empty() && o.schedule.intensity_file.empty()) {
    if (!*store) {
      auto created = GridStore::open_or_default(o.db);
      if (!created) return print_error(created.error().message()), 2;
      store->emplace(std::move(*created));
    }
    auto f = fetch_planning_forecast(o.schedule.forecast_source, sel->zone, **store,
                                     spec->requested_start_utc, spec->deadline_utc);
    if (f) {
      fetched = *f;
      fmt::print(stderr, "carbonclock: {}\n", f->note);
    } else {
      fmt::print(stderr, "carbonclock: warning: no fresh forecast, planning on stored data: {}\n",
                 f.error().message());
    }
  }
  GridStore* db = *store ? &**store : nullptr;

  ZonePlan home = plan_zone(sel->zone, *spec, db, o.schedule.intensity_file, energy_kwh,
                            fetched ? &*fetched : nullptr);
  if (home.error) return print_error(home.error->message()), 1;
  std::vector<ZonePlan> others;
  size_t pos = 0;
  while (pos < o.zones.size()) {
    size_t comma = o.zones.find(',', pos);
    if (comma == std::string::npos) comma = o.zones.size();
    std::string z = o.zones.substr(pos, comma - pos);
    pos = comma + 1;
    if (z.empty()) continue;
    auto zs = select_zone(std::nullopt, z);
    if (!zs) return print_error(zs.error().message()), 2;
    // The scripted file describes the home zone only.
    others.push_back(plan_zone(zs->zone, *spec, db, "", energy_kwh));
  }
  const SysTime start = home.runs.front().start_utc;
  const size_t pauses = home.runs.size() - 1;

  if (o.format == "sbatch") {
    std::string zone_text;
    std::string begin = local_begin(start, &zone_text);
    fmt::print("--begin={}\n", begin);
    fmt::print(stderr,
               "carbonclock: Slurm reads --begin in the local time zone of the submitting host: "
               "{} is local time ({}), i.e. {} UTC\n",
               begin, zone_text, format_utc(std::chrono::ceil<Seconds>(start)));
    if (pauses > 0) {
      fmt::print(stderr,
                 "carbonclock: the plan pauses {} time{}: run the job under `carbonclock run "
                 "--pause-resume ...` in the batch script to follow it\n",
                 pauses, pauses == 1 ? "" : "s");
    }
    return 0;
  }
  if (o.format == "json") {
    ojson j;
    j["zone"] = home.zone;
    j["algorithm"] = to_string(spec->algorithm);
    j["window"] = spec->window;
    j["requested_start_utc"] = format_utc(spec->requested_start_utc);
    j["deadline_utc"] = format_utc(spec->deadline_utc);
    j["duration_s"] = to_seconds(duration);
    j["energy_kwh"] = energy_kwh;
    j["slot_s"] = to_seconds(spec->slot);
    j["start_utc"] = format_utc(start);
    j["runs"] = runs_json(home.runs);
    j["pauses"] = pauses;
    j["expected_g"] = home.expected_g;
    j["immediate_g"] = home.immediate_g;
    j["saving_pct"] = saving_pct(home);
    const PlanningIntensity& in = home.intensity;
    if (in.forecast) {
      j["forecast"] = {{"source", in.forecast->source},
                       {"issued_at_utc", format_utc(in.forecast->issued_at)},
                       {"signal", in.signal},
                       {"horizon_end_utc", format_utc(in.forecast->horizon_end_utc)}};
    } else {
      j["forecast"] = nullptr;
    }
    j["horizon_end_utc"] =
        in.forecast ? ojson(format_utc(in.forecast->horizon_end_utc)) : ojson(nullptr);
    j["intensity"] = ojson::parse(intensity_to_json(in).dump());
    if (!profile_note.empty()) j["profile"] = profile_note;
    ojson zs = ojson::array();
    for (const ZonePlan& z : others) {
      if (z.error) {
        zs.push_back({{"zone", z.zone}, {"error", z.error->message()}});
        continue;
      }
      zs.push_back({{"zone", z.zone},
                    {"start_utc", format_utc(z.runs.front().start_utc)},
                    {"runs", runs_json(z.runs)},
                    {"expected_g", z.expected_g},
                    {"immediate_g", z.immediate_g},
                    {"saving_pct", saving_pct(z)}});
    }
    j["zones"] = zs;
    fmt::print("{}\n", dump_json(std::move(j), 2));
    return 0;
  }
  fmt::print("{} {} for a {} job ({:.4f} kWh) in {}: requested {}, deadline {}\n",
             to_string(spec->algorithm), spec->window, format_duration(duration), energy_kwh,
             home.zone, format_utc(spec->requested_start_utc), format_utc(spec->deadline_utc));
  if (!profile_note.empty()) fmt::print("  {}\n", profile_note);
  fmt::print("  start {}; runs: ", format_utc(start));
  for (size_t i = 0; i < home.runs.size(); ++i) {
    fmt::print("{}{}–{}", i ? ", " : "", format_utc(home.runs[i].start_utc),
               format_utc(home.runs[i].end_utc));
  }
  fmt::print(" ({} pause{})\n", pauses, pauses == 1 ? "" : "s");
  fmt::print("  expected {:.3f} g against {:.3f} g starting now ({:.1f} % less)\n", home.expected_g,
             home.immediate_g, saving_pct(home));
  fmt::print("  intensity: {}\n", home.intensity.describe());
  if (home.intensity.forecast) {
    fmt::print("  forecast horizon: {}\n", format_utc(home.intensity.forecast->horizon_end_utc));
  }
  for (const auto& n : home.intensity.notes) fmt::print("  note: {}\n", n);
  for (const ZonePlan& z : others) {
    if (z.error) {
      fmt::print("  {}: {}\n", z.zone, z.error->message());
    } else {
      fmt::print("  {}: start {}, expected {:.3f} g against {:.3f} g now ({:.1f} % less)\n", z.zone,
                 format_utc(z.runs.front().start_utc), z.expected_g, z.immediate_g, saving_pct(z));
    }
  }
  return 0;
}

}  // namespace

void register_plan_command(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<PlanOptions>();
  auto* cmd = app.add_subcommand(
      "plan",
      "Print a carbon-aware plan (Flexible Start or Pause and Resume) for a job without running "
      "anything");
  cmd->add_option("--zone", o->zone, "Grid zone id (e.g. DE)");
  cmd->add_option("--region", o->region, "Cloud region (e.g. eu-central-1)");
  cmd->add_option("--zones", o->zones, "Other zones to compare, comma-separated");
  cmd->add_option("--duration", o->duration, "The job's running time (e.g. 2h)");
  cmd->add_option("--energy-kwh", o->energy_kwh, "The job's energy in kWh");
  cmd->add_option("--profile", o->profile,
                  "A run directory: its duration and energy (laid flat) describe the job");
  cmd->add_option("--db", o->db, "Grid store (default $CARBONCLOCK_DB, else the XDG data dir)");
  cmd->add_option("--format", o->format,
                  "text | json | sbatch (prints --begin=LOCAL_TIME for Slurm's sbatch)")
      ->check(CLI::IsMember({"text", "json", "sbatch"}))
      ->capture_default_str();
  add_schedule_options(cmd, o->schedule, false);
  cmd->footer(
      "Example: carbonclock plan --zone DE --duration 2h --energy-kwh 3 --pause-resume 50%\n"
      "         sbatch $(carbonclock plan --zone DE --duration 2h --energy-kwh 3 --flex-start "
      "12h --format sbatch) job.sh");
  cmd->callback([o, &exit_code] { exit_code = run_plan(*o); });
}

}  // namespace carbonclock::cli
