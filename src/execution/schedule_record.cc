#include "execution/schedule_record.h"

#include <fmt/format.h>
#include <signal.h>

#include <algorithm>
#include <cstring>

#include "common/units.h"

namespace carbonclock {
namespace {

using json = nlohmann::json;

/// Mean intensity over [a, b); nullopt when the series does not cover all of it (the first
/// uncovered instant goes to `gap`).
std::optional<double> mean_intensity(const IntensitySeries& s, SysTime a, SysTime b, SysTime* gap) {
  auto it = std::upper_bound(s.points.begin(), s.points.end(), a,
                             [](SysTime t, const IntensityPoint& p) { return t < p.start; });
  if (it != s.points.begin()) --it;
  double weighted = 0;
  SysTime t = a;
  for (; it != s.points.end() && t < b; ++it) {
    if (it->end() <= t) continue;
    if (it->start > t) break;
    SysTime e = std::min(b, it->end());
    weighted += it->g_per_kwh * to_seconds(e - t);
    t = e;
  }
  if (t < b) {
    *gap = t;
    return std::nullopt;
  }
  return weighted / to_seconds(b - a);
}

json interval_json(const RunInterval& r) {
  return {{"start_utc", format_utc_millis(r.start_utc)}, {"end_utc", format_utc_millis(r.end_utc)}};
}

}  // namespace

Result<std::vector<RunInterval>> scheduled_running(const RunRecord& run) {
  if (!run.schedule || !run.schedule->contains("running")) {
    return make_error("run {} was not scheduled (no schedule.running in run.json)", run.id);
  }
  std::vector<RunInterval> out;
  for (const auto& r : run.schedule->at("running")) {
    auto a = parse_utc(r.value("start_utc", ""));
    auto b = parse_utc(r.value("end_utc", ""));
    if (!a || !b) return make_error("run {}: malformed schedule.running entry", run.id);
    out.push_back({*a, *b});
  }
  return out;
}

Result<SysTime> scheduled_requested_start(const RunRecord& run) {
  if (!run.schedule) return make_error("run {} was not scheduled", run.id);
  auto t = parse_utc(run.schedule->value("requested_start_utc", ""));
  if (!t)
    return t.error().with_context(fmt::format("run {}: schedule.requested_start_utc", run.id));
  return *t;
}

Result<ScheduleSavings> schedule_savings(const RunRecord& run, const IntensitySeries& intensity) {
  auto running = scheduled_running(run);
  if (!running) return running.error();
  auto requested = scheduled_requested_start(run);
  if (!requested) return requested.error();
  ScheduleSavings out;
  out.intensity_source = intensity.source;
  const EnergyTimeline& tl = run.timeline;
  double job_s = 0;  // running time before the current piece
  size_t r = 0;
  for (const TimelineBucket& bucket : tl.buckets) {
    SysTime bs = bucket.start_utc, be = bucket.start_utc + tl.bucket;
    double energy_j = 0;
    for (double e : bucket.energy_j) energy_j += e;
    // The job's running time inside this bucket.
    std::vector<RunInterval> pieces;
    double run_in_bucket_s = 0;
    for (size_t k = r; k < running->size(); ++k) {
      const RunInterval& iv = (*running)[k];
      if (iv.start_utc >= be) break;
      SysTime a = std::max(bs, iv.start_utc), b = std::min(be, iv.end_utc);
      if (b > a) {
        pieces.push_back({a, b});
        run_in_bucket_s += to_seconds(b - a);
      }
    }
    while (r < running->size() && (*running)[r].end_utc <= be) ++r;
    if (run_in_bucket_s <= 0) {
      out.paused_energy_j += energy_j;
      continue;
    }
    double j_per_s = energy_j / run_in_bucket_s;
    for (const RunInterval& p : pieces) {
      double len_s = to_seconds(p.end_utc - p.start_utc);
      double kwh = j_per_s * len_s / kJoulesPerKwh;
      SysTime gap;
      auto now_i = mean_intensity(intensity, p.start_utc, p.end_utc, &gap);
      SysTime ia = *requested + from_seconds(job_s);
      auto imm_i = now_i ? mean_intensity(intensity, ia, ia + (p.end_utc - p.start_utc), &gap)
                         : std::nullopt;
      if (!now_i || !imm_i) {
        return make_error("{} intensity ({}) does not cover {}, needed for the run's savings",
                          intensity.zone, intensity.source, format_utc(gap));
      }
      out.emitted_g += kwh * *now_i;
      out.immediate_g += kwh * *imm_i;
      job_s += len_s;
    }
  }
  out.saved_g = out.immediate_g - out.emitted_g;
  out.saved_pct = out.immediate_g > 0 ? 100.0 * out.saved_g / out.immediate_g : 0.0;
  return out;
}

IntensitySeries planning_series(const SlottedIntensity& in) {
  IntensitySeries s;
  s.zone = in.zone;
  s.source = "plan";
  for (size_t i = 0; i < in.size(); ++i) {
    s.points.push_back({in.slot_start(i), in.slot, in.g_per_kwh(i),
                        in.provenance_of(i).basis != IntensityBasis::kActual});
  }
  return s;
}

json savings_to_json(const ScheduleSavings& s, const std::string& basis, SysTime computed_at) {
  return {{"emitted_g", s.emitted_g},
          {"immediate_g", s.immediate_g},
          {"saved_g", s.saved_g},
          {"saved_pct", s.saved_pct},
          {"paused_energy_j", s.paused_energy_j},
          {"intensity_basis", basis},
          {"intensity_source", s.intensity_source},
          {"computed_at_utc", format_utc(computed_at)}};
}

std::vector<RunInterval> planned_runs(const Decision& d, double needed_s) {
  std::vector<RunInterval> out;
  double left = needed_s;
  for (size_t k = 0; k < d.chosen.size() && left > 1e-9; ++k) {
    const WindowSlot& w = d.window[d.chosen[k]];
    double used = std::min(left, w.capacity_s);
    left -= used;
    SysTime a = w.start_utc, b = w.start_utc + from_seconds(used);
    if (!out.empty() && out.back().end_utc == a) {
      out.back().end_utc = b;
    } else {
      out.push_back({a, b});
    }
  }
  return out;
}

json intensity_to_json(const SlottedIntensity& in) {
  json spans = json::array();
  json forecast = nullptr;
  for (size_t i = 0; i < in.size();) {
    Provenance p = in.provenance_of(i);
    size_t j = i + 1;
    while (j < in.size() && in.provenance_of(j) == p) ++j;
    spans.push_back({{"basis", to_string(p.basis)},
                     {"start_utc", format_utc(in.slot_start(i))},
                     {"end_utc", format_utc(in.slot_start(j))},
                     {"zone", p.zone},
                     {"signal", to_string(p.signal)},
                     {"factor", to_string(p.factor)},
                     {"source", p.source}});
    if (p.basis == IntensityBasis::kForecast && forecast.is_null()) {
      forecast = {{"source", p.source},
                  {"issued_at_utc", p.issued_at ? json(format_utc(*p.issued_at)) : json(nullptr)},
                  {"horizon_end_utc",
                   p.horizon_end_utc ? json(format_utc(*p.horizon_end_utc)) : json(nullptr)}};
    }
    i = j;
  }
  ProvenanceSummary mix = summarize(in.used_provenances(0, in.size()));
  return {{"zone", in.zone},
          {"signal", mix.signal.empty() ? to_string(in.signal) : mix.signal},
          {"factor", mix.factor.empty() ? to_string(in.factor) : mix.factor},
          {"slot_s", to_seconds(in.slot)},
          {"basis", spans},
          {"forecast", forecast},
          {"notes", in.notes}};
}

json schedule_to_json(const ScheduleRequest& request, const ExecutionOptions& options,
                      const Executor& ex) {
  json pause;
  if (request.pause.pause_signal == 0) {
    pause = {{"method", "sigstop"}};
  } else {
    pause = {{"method", "signal"},
             {"signal", sigabbrev_np(request.pause.pause_signal)
                            ? fmt::format("SIG{}", sigabbrev_np(request.pause.pause_signal))
                            : std::to_string(request.pause.pause_signal)},
             {"resume_command", request.pause.resume_command},
             {"grace_s", to_seconds(request.pause.grace)}};
  }
  const Decision& d = ex.first_decision();
  double needed_s = to_seconds(options.expected_duration);
  json runs = json::array();
  for (const auto& r : planned_runs(d, needed_s)) runs.push_back(interval_json(r));
  json events = json::array();
  for (const auto& e : ex.events()) {
    json j = {{"at_utc", format_utc_millis(e.at_utc)}, {"action", e.action}};
    if (!e.note.empty()) j["note"] = e.note;
    events.push_back(std::move(j));
  }
  json running = json::array();
  for (const auto& r : ex.running()) running.push_back(interval_json(r));
  size_t pauses = 0;
  for (const auto& e : ex.events()) pauses += e.action == "pause" ? 1 : 0;
  return {{"algorithm", to_string(options.algorithm)},
          {"window", request.window},
          {"requested_start_utc", format_utc_millis(request.requested_start_utc)},
          {"deadline_utc", format_utc_millis(options.deadline_utc)},
          {"expected_duration_s", needed_s},
          {"pause", pause},
          {"plan",
           {{"planned_at_utc", format_utc_millis(ex.planned_at())},
            {"runs", runs},
            {"expected_saving_pct",
             d.immediate_is > 0 ? 100.0 * (1.0 - d.planned_is / d.immediate_is) : 0.0},
            {"intensity", intensity_to_json(ex.first_intensity())}}},
          {"events", events},
          {"running", running},
          {"pauses", pauses}};
}

}  // namespace carbonclock
