#include "reports/plan_render.h"

#include <fmt/format.h>

#include <ctime>

#include "execution/schedule_record.h"

namespace carbonclock {
namespace {

using ojson = nlohmann::ordered_json;

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

// The allocation a plan needs on Slurm: from its first start to the end of its last run
// (pauses happen inside the allocation), in whole minutes, Slurm's unit, rounded up.
int64_t slurm_time_limit_min(const PlanResult& p) {
  Nanos span = p.home.runs.back().end_utc - p.start_utc();
  return std::max<int64_t>(1, std::chrono::ceil<std::chrono::minutes>(span).count());
}

// "--time" as D-HH:MM:SS (Slurm reads a bare number as minutes; this is unambiguous).
std::string slurm_time(int64_t minutes) {
  int64_t days = minutes / (24 * 60), hours = minutes / 60 % 24, mins = minutes % 60;
  return days > 0 ? fmt::format("{}-{:02}:{:02}:00", days, hours, mins)
                  : fmt::format("{:02}:{:02}:00", hours, mins);
}

ojson runs_json(const std::vector<RunInterval>& runs) {
  ojson a = ojson::array();
  for (const auto& r : runs) {
    a.push_back({{"start_utc", format_utc(r.start_utc)}, {"end_utc", format_utc(r.end_utc)}});
  }
  return a;
}

std::string render_json(const PlanResult& p) {
  std::string zone;
  const ZonePlan& home = p.home;
  const ScheduleSpec& spec = p.spec;
  ojson j;
  j["zone"] = home.zone;
  j["algorithm"] = to_string(spec.algorithm);
  j["window"] = spec.window;
  j["requested_start_utc"] = format_utc(spec.requested_start_utc);
  j["deadline_utc"] = format_utc(spec.deadline_utc);
  j["duration_s"] = to_seconds(p.duration);
  j["energy_kwh"] = p.energy_kwh;
  j["slot_s"] = to_seconds(spec.slot);
  j["start_utc"] = format_utc(p.start_utc());
  j["runs"] = runs_json(home.runs);
  j["pauses"] = p.pauses();
  j["expected_g"] = home.expected_g;
  j["immediate_g"] = home.immediate_g;
  j["saving_pct"] = home.saving_pct();
  nlohmann::json intensity = intensity_to_json(home.intensity);
  j["forecast"] = ojson(intensity["forecast"]);
  if (!j["forecast"].is_null()) j["forecast"]["signal"] = intensity["signal"];
  j["horizon_end_utc"] =
      j["forecast"].is_null() ? ojson(nullptr) : j["forecast"]["horizon_end_utc"];
  j["intensity"] = ojson(intensity);
  j["risk"] = risk_to_json(home.risk);
  if (!p.profile_note.empty()) j["profile"] = p.profile_note;
  ojson zs = ojson::array();
  for (const ZonePlan& z : p.others) {
    if (z.error) {
      zs.push_back({{"zone", z.zone}, {"error", z.error->message()}});
      continue;
    }
    zs.push_back({{"zone", z.zone},
                  {"start_utc", format_utc(z.runs.front().start_utc)},
                  {"runs", runs_json(z.runs)},
                  {"expected_g", z.expected_g},
                  {"immediate_g", z.immediate_g},
                  {"saving_pct", z.saving_pct()}});
  }
  j["zones"] = zs;
  // What a Slurm job_submit plugin sets (contrib/slurm/job_submit.lua): the begin time as Unix
  // seconds (never before the planned instant) and the time limit the plan needs.
  j["slurm"] = {
      {"begin_unix_s", std::chrono::ceil<Seconds>(p.start_utc()).time_since_epoch().count()},
      {"begin_utc", format_utc(std::chrono::ceil<Seconds>(p.start_utc()))},
      {"time_limit_min", slurm_time_limit_min(p)},
      {"sbatch", ojson::array({fmt::format("--begin={}", local_begin(p.start_utc(), &zone)),
                               fmt::format("--time={}", slurm_time(slurm_time_limit_min(p)))})}};
  return json_text(j);
}

std::string render_text(const PlanResult& p) {
  const ZonePlan& home = p.home;
  const ScheduleSpec& spec = p.spec;
  std::string out =
      fmt::format("{} {} for a {} job ({:.4f} kWh) in {}: requested {}, deadline {}\n",
                  to_string(spec.algorithm), spec.window, format_duration(p.duration), p.energy_kwh,
                  home.zone, format_utc(spec.requested_start_utc), format_utc(spec.deadline_utc));
  if (!p.profile_note.empty()) out += fmt::format("  {}\n", p.profile_note);
  out += fmt::format("  start {}; runs: ", format_utc(p.start_utc()));
  for (size_t i = 0; i < home.runs.size(); ++i) {
    out += fmt::format("{}{}–{}", i ? ", " : "", format_utc(home.runs[i].start_utc),
                       format_utc(home.runs[i].end_utc));
  }
  out += fmt::format(" ({} pause{})\n", p.pauses(), p.pauses() == 1 ? "" : "s");
  out += fmt::format("  expected {} g against {} g starting now ({} % less)\n",
                     fixed(home.expected_g, 3), fixed(home.immediate_g, 3),
                     fixed(home.saving_pct(), 1));
  out += fmt::format("  intensity: {}\n", home.intensity.describe());
  for (const Provenance& f : home.intensity.used_provenances(0, home.intensity.size())) {
    if (f.basis == IntensityBasis::kForecast && f.horizon_end_utc) {
      out += fmt::format("  forecast horizon: {}\n", format_utc(*f.horizon_end_utc));
      break;
    }
  }
  if (!home.risk.text.empty()) out += fmt::format("  risk: {}\n", home.risk.text);
  for (const auto& n : home.intensity.notes) out += fmt::format("  note: {}\n", n);
  for (const ZonePlan& z : p.others) {
    if (z.error) {
      out += fmt::format("  {}: {}\n", z.zone, z.error->message());
    } else {
      out += fmt::format("  {}: start {}, expected {} g against {} g now ({} % less)\n", z.zone,
                         format_utc(z.runs.front().start_utc), fixed(z.expected_g, 3),
                         fixed(z.immediate_g, 3), fixed(z.saving_pct(), 1));
    }
  }
  return out;
}

}  // namespace

std::string render_plan(const PlanResult& plan, Format format) {
  switch (format) {
    case Format::kJson:
      return render_json(plan);
    case Format::kSbatch: {
      std::string zone_text;
      return fmt::format("--begin={} --time={}\n", local_begin(plan.start_utc(), &zone_text),
                         slurm_time(slurm_time_limit_min(plan)));
    }
    default:
      return render_text(plan);
  }
}

std::vector<std::string> sbatch_notes(const PlanResult& plan) {
  std::vector<std::string> out;
  std::string zone_text;
  std::string begin = local_begin(plan.start_utc(), &zone_text);
  out.push_back(fmt::format(
      "Slurm reads --begin in the local time zone of the submitting host: {} is local time ({}), "
      "i.e. {} UTC",
      begin, zone_text, format_utc(std::chrono::ceil<Seconds>(plan.start_utc()))));
  out.push_back(fmt::format(
      "--time={} is the time from the start to the end of the plan's last run, rounded up to "
      "whole minutes; Slurm ends the job at that limit, so give a later --time after these "
      "options if the duration is uncertain",
      slurm_time(slurm_time_limit_min(plan))));
  if (plan.pauses() > 0) {
    out.push_back(fmt::format(
        "the plan pauses {} time{}: run the job under `carbonclock run --pause-resume ...` in the "
        "batch script to follow it",
        plan.pauses(), plan.pauses() == 1 ? "" : "s"));
  }
  return out;
}

}  // namespace carbonclock
