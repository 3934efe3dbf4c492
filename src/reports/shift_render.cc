#include "reports/shift_render.h"

#include <fmt/format.h>

#include "reports/format.h"

namespace carbonclock {
namespace {

using ojson = nlohmann::ordered_json;

/// "00:00Z–01:30Z, 03:00Z–04:00Z" style runs of consecutive chosen slots.
std::vector<std::pair<SysTime, SysTime>> runs_of(const Plan& plan, const SlottedIntensity& in) {
  std::vector<std::pair<SysTime, SysTime>> runs;
  for (size_t k = 0; k < plan.slots.size(); ++k) {
    SysTime a = in.slot_start(plan.slots[k]), b = in.slot_start(plan.slots[k] + 1);
    if (k > 0 && plan.slots[k] == plan.slots[k - 1] + 1) {
      runs.back().second = b;
    } else {
      runs.emplace_back(a, b);
    }
  }
  return runs;
}

ojson plan_json(const Plan& plan, const SlottedIntensity& in, const JobProfile& job,
                const ShiftWindow& window) {
  ojson j;
  j["algorithm"] = to_string(plan.algorithm);
  j["window"] = window.label;
  j["window_slots"] = plan.window_slots;
  j["baseline_g"] = plan.baseline_g;
  j["shifted_g"] = plan.shifted_g;
  j["reduction_pct"] = plan.reduction_pct();
  j["chosen_start_utc"] = format_utc_minutes(in.slot_start(plan.slots.front()));
  j["end_utc"] = format_utc_minutes(in.slot_start(plan.slots.back() + 1));
  auto& runs = j["runs"] = ojson::array();
  for (auto [a, b] : runs_of(plan, in)) {
    runs.push_back({{"start_utc", format_utc_minutes(a)}, {"end_utc", format_utc_minutes(b)}});
  }
  j["pauses"] = plan.pauses;
  j["pauses_per_hour"] = static_cast<double>(plan.pauses) / job.hours();
  return j;
}

std::string plan_text(const Plan& plan, const SlottedIntensity& in, const JobProfile& job,
                      const ShiftWindow& window) {
  std::string runs;
  for (auto [a, b] : runs_of(plan, in)) {
    if (!runs.empty()) runs += ", ";
    runs += fmt::format("{}–{}", format_utc_minutes(a), format_utc_minutes(b));
  }
  return fmt::format(
      "    {} +{} ({} slots): {:.3f} g ({} % vs baseline), start {}, {} pause{} "
      "({:.3f}/h)\n      runs: {}\n",
      to_string(plan.algorithm), window.label, plan.window_slots, plan.shifted_g,
      signed_fixed(-plan.reduction_pct(), 2), format_utc_minutes(in.slot_start(plan.slots.front())),
      plan.pauses, plan.pauses == 1 ? "" : "s", static_cast<double>(plan.pauses) / job.hours(),
      runs);
}

ojson provenance_json(const std::vector<Provenance>& used) {
  ojson a = ojson::array();
  for (const Provenance& p : used) {
    a.push_back({{"basis", to_string(p.basis)},
                 {"zone", p.zone},
                 {"signal", to_string(p.signal)},
                 {"factor", to_string(p.factor)},
                 {"source", p.source}});
  }
  return a;
}

std::string describe_zone(const ZoneOutcome& z) {
  const SlottedIntensity& in = *z.intensity;
  return fmt::format("{} {}/{}", z.zone, z.mix.signal.empty() ? to_string(in.signal) : z.mix.signal,
                     z.mix.factor.empty() ? to_string(in.factor) : z.mix.factor);
}

std::string rests_on(const ZoneOutcome& z) {
  std::string out;
  for (const Provenance& p : z.used) {
    out += (out.empty() ? "" : "; ") + p.label();
  }
  return out;
}

std::string pct_vs(double base, double other) {
  return signed_fixed(-reduction_pct(base, other), 2);
}

std::string render_json(const ShiftResult& r) {
  const JobProfile& job = r.job;
  const ZoneOutcome& home = r.zones.front();
  ojson j;
  j["job"] = {{"name", job.name},     {"profile", job.flat ? "flat" : "measured"},
              {"slots", job.slots()}, {"slot_s", to_seconds(job.slot)},
              {"hours", job.hours()}, {"energy_kwh", job.total_kwh()}};
  j["requested_start_utc"] = format_utc_minutes(r.requested_start_utc);
  auto& jz = j["zones"] = ojson::array();
  for (const ZoneOutcome& z : r.zones) {
    ojson e;
    e["zone"] = z.zone;
    if (z.intensity) {
      e["signal"] = z.mix.signal.empty() ? to_string(z.intensity->signal) : z.mix.signal;
      e["factor"] = z.mix.factor.empty() ? to_string(z.intensity->factor) : z.mix.factor;
      e["mixed"] = z.mix.mixed();
      e["source"] = z.intensity->source;
      e["provenance"] = provenance_json(z.used);
    }
    if (z.error) {
      e["error"] = z.error->message();
      jz.push_back(std::move(e));
      continue;
    }
    e["baseline_g"] = z.baseline_g;
    auto& plans = e["plans"] = ojson::array();
    for (size_t i = 0; i < r.shiftings.size(); ++i) {
      if (!z.plans[i]) {
        plans.push_back({{"algorithm", to_string(r.shiftings[i].algorithm)},
                         {"window", r.shiftings[i].window.label},
                         {"error", z.plans[i].error().message()}});
      } else {
        plans.push_back(plan_json(*z.plans[i], *z.intensity, job, r.shiftings[i].window));
      }
    }
    jz.push_back(std::move(e));
  }
  if (r.best_zone) {
    const ZoneOutcome& best = r.zones[*r.best_zone];
    j["best_zone"] = {
        {"zone", best.zone},
        {"baseline_g", best.baseline_g},
        {"reduction_pct_vs_first_zone",
         home.error ? ojson(nullptr) : ojson(reduction_pct(home.baseline_g, best.baseline_g))}};
  }
  auto& st = j["best_zone_with_shifting"] = ojson::array();
  for (size_t i = 0; i < r.shiftings.size(); ++i) {
    if (!r.best_shifted[i]) continue;
    const ZoneOutcome& z = r.zones[*r.best_shifted[i]];
    const Plan& p = *z.plans[i];
    st.push_back(
        {{"algorithm", to_string(r.shiftings[i].algorithm)},
         {"window", r.shiftings[i].window.label},
         {"zone", z.zone},
         {"shifted_g", p.shifted_g},
         {"reduction_pct_vs_first_zone",
          home.error ? ojson(nullptr) : ojson(reduction_pct(home.baseline_g, p.shifted_g))}});
  }
  return json_text(j);
}

std::string render_text(const ShiftResult& r) {
  const JobProfile& job = r.job;
  const ZoneOutcome& home = r.zones.front();
  std::string out = fmt::format("{}\n", r.title);
  out += fmt::format("job: {} profile, {} slots of {} ({:.3f} h), {:.6g} kWh\n",
                     job.flat ? "flat" : "measured", job.slots(), format_duration(job.slot),
                     job.hours(), job.total_kwh());
  out += fmt::format("requested start: {}\n", format_utc_minutes(r.requested_start_utc));
  for (const ZoneOutcome& z : r.zones) {
    if (z.error) {
      out += fmt::format("  {}: skipped: {}\n", z.zone, z.error->message());
      continue;
    }
    out += fmt::format("  {}: baseline {:.3f} g at the requested start\n", describe_zone(z),
                       z.baseline_g);
    out += fmt::format("    intensity: {}{}\n", rests_on(z),
                       z.mix.mixed() ? " (MIXED signals or factors)" : "");
    for (size_t i = 0; i < r.shiftings.size(); ++i) {
      if (!z.plans[i]) {
        out += fmt::format("    {} +{}: skipped: {}\n", to_string(r.shiftings[i].algorithm),
                           r.shiftings[i].window.label, z.plans[i].error().message());
      } else {
        out += plan_text(*z.plans[i], *z.intensity, job, r.shiftings[i].window);
      }
    }
  }
  if (r.zones.size() > 1 && r.best_zone) {
    const ZoneOutcome& best = r.zones[*r.best_zone];
    out += fmt::format("best zone unshifted (spatial): {} {:.3f} g", best.zone, best.baseline_g);
    if (!home.error) {
      out += fmt::format(" ({} % vs {})", pct_vs(home.baseline_g, best.baseline_g), home.zone);
    }
    out += "\n";
    for (size_t i = 0; i < r.shiftings.size(); ++i) {
      if (!r.best_shifted[i]) continue;
      const ZoneOutcome& z = r.zones[*r.best_shifted[i]];
      const Plan& p = *z.plans[i];
      out += fmt::format("best zone with {} +{} (spatio-temporal): {} {:.3f} g",
                         to_string(r.shiftings[i].algorithm), r.shiftings[i].window.label, z.zone,
                         p.shifted_g);
      if (!home.error) {
        out +=
            fmt::format(" ({} % vs {} unshifted)", pct_vs(home.baseline_g, p.shifted_g), home.zone);
      }
      out += "\n";
    }
  }
  return out;
}

}  // namespace

std::string render_shift(const ShiftResult& result, Format format) {
  return format == Format::kJson ? render_json(result) : render_text(result);
}

}  // namespace carbonclock
