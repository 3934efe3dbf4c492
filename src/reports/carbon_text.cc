// Text and Markdown renderings of a run's carbon account.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "accounting/equivalents.h"
#include "common/units.h"
#include "reports/carbon_report.h"
#include "reports/schedule_view.h"
#include "reports/statement.h"
#include "reports/summary.h"

namespace carbonclock {
namespace {

std::string zone_text(const CarbonAccount& a) {
  std::string s = "zone " + a.zone;
  if (a.region) s += " (region " + *a.region + ")";
  return s;
}

std::string pue_text(const CarbonAccount& a) {
  return fmt::format("PUE {:.2f} ({})", a.pue, a.pue_origin);
}

std::string signal_line(const SignalAccount& s) {
  std::string rests;
  if (s.stored_energy_j > 0) {
    rests += fmt::format("{}% stored data ({})", fixed(100 * s.stored_share(), 1), s.source);
  }
  if (s.embedded_energy_j > 0) {
    rests += fmt::format("{}{}% {}", rests.empty() ? "" : ", ", fixed(100 * s.embedded_share(), 1),
                         s.fallback_source);
  }
  if (s.unpriced_energy_j > 0) {
    rests += fmt::format("{}{}% not priced", rests.empty() ? "" : ", ",
                         fixed(100 * s.unpriced_share(), 1));
  }
  return fmt::format("{:<8} {:>10}  mean {:.0f} g/kWh, priced with {}/{} data{}; {}",
                     to_string(s.signal), format_grams(s.operational_g), s.mean_g_per_kwh(),
                     s.signal_label(), s.factor_label(),
                     s.mix.mixed() ? " (MIXED: see the per-source breakdown below)" : "", rests);
}

std::string per_text(const CarbonAccount& a) {
  if (!a.unit) return "run";
  return a.unit->text();
}

std::string pue_origin_text(const CarbonAccount& a) {
  if (a.pue_origin == "--pue") return "given with --pue";
  if (a.pue_origin == "run.json") return "given at run time";
  if (a.pue_origin == "default") return "carbonclock's default: no PUE was given";
  return a.pue_origin;
}

std::string schedule_markdown(const ScheduleView& v) {
  std::string out = "### Carbon-aware schedule\n\n";
  out += fmt::format(
      "The job was scheduled with {} (requested start {}, deadline {}); the plan made at {} ran "
      "it {}{}. It paused {} time{}.{}\n\n",
      v.title(), v.requested_start_utc, v.deadline_utc, v.planned_at_utc,
      [&] {
        std::string r;
        for (const auto& i : v.planned)
          r += (r.empty() ? "" : ", ") + i.start_utc + " – " + i.end_utc;
        return r.empty() ? std::string("(no runs)") : r;
      }(),
      v.expected_saving_pct
          ? fmt::format(", expecting to save {}%", fixed(*v.expected_saving_pct, 1))
          : "",
      v.pauses, v.pauses == 1 ? "" : "s", v.savings ? " It " + v.savings_text() + "." : "");
  if (!v.risk_note.empty()) out += fmt::format("Risk: {}.\n\n", v.risk_note);
  out += "| time (UTC) | event | note |\n|---|---|---|\n";
  for (const auto& e : v.events) {
    std::string note = e.note;
    for (size_t p = note.find('|'); p != std::string::npos; p = note.find('|', p + 2)) {
      note.replace(p, 1, "\\|");
    }
    out += fmt::format("| {} | {} | {} |\n", e.at_utc, e.action, note);
  }
  return out;
}

// "2.50 hours", "12.5 minutes", "7.0 seconds": a short run's statement never says "0.00 hours".
std::string duration_phrase(double seconds) {
  if (seconds >= 360) return fmt::format("{:.2f} hours", seconds / 3600);
  if (seconds >= 60) return fmt::format("{:.1f} minutes", seconds / 60);
  return fmt::format("{:.1f} seconds", seconds);
}

// kWh with three decimals from 0.1 kWh up, else three significant figures ("0.00496").
std::string kwh_text(double kwh) {
  return std::fabs(kwh) >= 0.1 ? fixed(kwh, 3) : significant(kwh, 3);
}

}  // namespace

std::string equivalents_text(double grams) {
  std::string out;
  for (const auto& e : equivalents(grams)) {
    if (e.key == "barrels_oil" || e.key == "rail_cars_coal") continue;  // as equivalents_sentence
    const bool tiny = e.count > 0 && e.count < 1e-4;
    out += fmt::format("{}{} {}", out.empty() ? "" : ", ",
                       tiny ? std::string("< 0.0001") : significant(e.count, 3), e.label);
  }
  return out;
}

std::string format_grams(double grams) { return in_unit(grams, grams_unit_for(grams)); }

std::string emissions_summary_text(const CarbonAccount& a) {
  std::string out;
  const auto& h = a.headline_signal();
  out += fmt::format("  emissions {} CO2eq operational ({} signal, {}, {}){}\n",
                     format_grams(h.operational_g), to_string(h.signal), zone_text(a), pue_text(a),
                     a.zone_origin.empty() ? "" : "; zone from " + a.zone_origin);
  for (size_t i = 0; i < a.signals.size(); ++i) {
    if (i == a.headline) continue;
    out += fmt::format("    {} signal: {} CO2eq\n", to_string(a.signals[i].signal),
                       format_grams(a.signals[i].operational_g));
  }
  out += fmt::format("    embodied {} CO2eq; SCI {} CO2eq per {}\n",
                     format_grams(a.embodied.embodied_g), format_grams(a.sci_g_per_unit()),
                     per_text(a));
  for (const auto& n : a.notes) out += "    " + n + "\n";
  out += "    ≈ " + equivalents_text(a.total_g()) + "\n";
  return out;
}

std::string report_text(const RunRecord& run, const CarbonAccount& a, const std::string& run_dir) {
  std::string out;
  auto add = [&out]<typename... Args>(fmt::format_string<Args...> f, Args&&... args) {
    fmt::format_to(std::back_inserter(out), f, std::forward<Args>(args)...);
  };
  add("carbonclock report of '{}' (run {})\n", join_command(run), run.id);
  add("  started {}, ran {}, host {}, exit code {}{}\n", format_utc(run.start_utc),
      format_duration(run.end_utc - run.start_utc), run.host.empty() ? "?" : run.host,
      run.exit_code ? std::to_string(*run.exit_code) : "unknown",
      run.recovered ? " (recovered from the journal)" : "");
  add("energy by device:\n");
  out += device_energy_lines(run);
  const EnergySplit split = energy_split(run);
  add("  {}% measured by counters or power readings, {}% estimated\n",
      fixed(100 * split.measured_share(), 1), fixed(100 * split.estimated_share(), 1));
  add("  IT energy {:.6f} kWh; {} → facility energy {:.6f} kWh\n", a.energy_j / kJoulesPerKwh,
      pue_text(a), a.energy_j * a.pue / kJoulesPerKwh);
  add("grid: {}, chosen by {}\n", zone_text(a), a.zone_origin.empty() ? "?" : a.zone_origin);
  add("operational emissions (E × I × PUE), headline {}: {} CO2eq\n",
      to_string(a.headline_signal().signal), format_grams(a.operational_g()));
  add("  why this signal: {}\n", a.headline_reason);
  for (const auto& s : a.signals) {
    add("  {}\n", signal_line(s));
    if (s.mix.mixed() || s.parts.size() > 1) {
      for (const auto& part : priced_by(s, run)) add("    {}\n", part);
    }
  }
  const auto& m = a.embodied;
  add("embodied emissions (M = TE × TiR/EL × RR/ToR): {} CO2eq\n", format_grams(m.embodied_g));
  add("  {}; TE {:.1f} kg, reserved {}\n", m.note, m.te_kg,
      format_duration(from_seconds(m.reserved_s)));
  double largest = 0;
  for (const auto& c : m.components) largest = std::max(largest, std::fabs(c.embodied_g));
  const ScaledUnit unit = grams_unit_for(largest);  // one unit for the component table
  for (const auto& c : m.components) {
    add("  {:<38} {:>6g} × {:>8.1f} kg / {:g} y  {:>10}  [{}]\n", c.name, c.count, c.kg_each,
        c.lifetime_years, in_unit(c.embodied_g, unit), c.source);
  }
  add("SCI = (E × I + M) / R: {} CO2eq per {}", format_grams(a.sci_g_per_unit()), per_text(a));
  if (a.unit && a.unit->work) {
    add(" (the run did {:g} {}, R = {:g})", *a.unit->work, a.unit->unit, a.unit->units_done());
  }
  add("\n");
  add("total {} CO2eq ≈ {}\n", format_grams(a.total_g()), equivalents_text(a.total_g()));
  if (run.schedule) {
    if (auto v = schedule_view(*run.schedule)) out += schedule_text(*v);
  }
  add("coverage (what the numbers rest on):\n");
  for (const auto& n : a.notes) add("  {}\n", n);
  for (const auto& w : run.warnings) add("  run warning: {}\n", w);
  if (!run_dir.empty()) add("run: {}\n", run_dir);
  return out;
}

std::string report_markdown(const RunRecord& run, const CarbonAccount& a) {
  const auto& h = a.headline_signal();
  const double kwh = a.energy_j / kJoulesPerKwh;
  const EnergySplit split = energy_split(run);
  auto join = [](const std::vector<std::string>& v, const char* sep) {
    std::string out;
    for (const auto& x : v) out += (out.empty() ? "" : sep) + x;
    return out;
  };
  std::string out = "## Carbon statement\n\n";
  out += fmt::format(
      "This job ran for {} ({} to {}) on {}. It used {} kWh of electricity at the "
      "IT equipment, {} kWh at the facility with a PUE of {:.2f} ({}). Of the IT energy, "
      "{}% was measured by hardware energy counters or power readings{} and {}% was "
      "estimated{}. ",
      duration_phrase(run.duration_s()), format_utc(run.start_utc), format_utc(run.end_utc),
      hardware_phrase(run), kwh_text(kwh), kwh_text(kwh * a.pue), a.pue, pue_origin_text(a),
      fixed(100 * split.measured_share(), 1),
      split.measured_devices.empty() ? "" : " (" + join(split.measured_devices, "; ") + ")",
      fixed(100 * split.estimated_share(), 1),
      split.estimated_devices.empty() ? "" : " (" + join(split.estimated_devices, "; ") + ")");
  out += fmt::format(
      "It ran in electricity grid zone {}. Its operational emissions were {} gCO2eq using "
      "the {} carbon-intensity signal ({} emission factors){}, integrated interval by interval "
      "over the run at an energy-weighted mean of {:.0f} gCO2eq/kWh; the energy was priced with "
      "{}. ",
      zone_phrase(a), significant(h.operational_g, 4), to_string(h.signal), h.factor_label(),
      h.mix.mixed() ? fmt::format(" — a MIXED figure resting on {} signals and {} emission "
                                  "factors, as broken down here",
                                  h.signal_label(), h.factor_label())
                    : "",
      h.mean_g_per_kwh(), join(priced_by(h, run), " and "));
  for (const auto& s : a.signals) {
    if (&s == &h) continue;
    out += fmt::format("With the {} signal instead, they would be {} gCO2eq. ", to_string(s.signal),
                       significant(s.operational_g, 4));
  }
  out += fmt::format(
      "Embodied emissions of the reserved hardware add {} gCO2eq ({}), for a total of {} "
      "gCO2eq{}. {}{}\n\n",
      significant(a.embodied.embodied_g, 4), a.embodied.note, significant(a.total_g(), 4),
      a.unit
          ? fmt::format(" ({} gCO2eq per {})", significant(a.sci_g_per_unit(), 3), a.unit->text())
          : "",
      method_citation(),
      run.carbonclock_version.empty()
          ? ""
          : fmt::format(" Measured and computed with carbonclock {}.", run.carbonclock_version));
  out += "| quantity | value |\n|---|---|\n";
  out += fmt::format("| hardware | {} |\n", hardware_phrase(run));
  out += fmt::format("| duration | {} |\n", duration_phrase(run.duration_s()));
  out += fmt::format("| energy (IT) | {} kWh |\n", kwh_text(kwh));
  out +=
      fmt::format("| measured by counters / estimated | {}% / {}% |\n",
                  fixed(100 * split.measured_share(), 1), fixed(100 * split.estimated_share(), 1));
  out += fmt::format("| PUE | {:.2f} ({}) |\n", a.pue, pue_origin_text(a));
  out += fmt::format("| grid zone | {}{} |\n", a.zone, a.region ? " (" + *a.region + ")" : "");
  for (const auto& s : a.signals) {
    out += fmt::format("| operational, {} signal{} | {} gCO2eq |\n", to_string(s.signal),
                       &s == &h ? " (headline)" : "", significant(s.operational_g, 4));
  }
  out += fmt::format("| embodied | {} gCO2eq |\n", significant(a.embodied.embodied_g, 4));
  out +=
      fmt::format("| SCI per {} | {} gCO2eq |\n", per_text(a), significant(a.sci_g_per_unit(), 3));
  out += fmt::format("| intensity data (headline) | {} signal, {} emission factors{} |\n",
                     h.signal_label(), h.factor_label(),
                     h.mix.mixed() ? " (MIXED: more than one signal or factor)" : "");
  out += fmt::format("| data sources (share of energy) | {} |\n", join(priced_by(h, run), "; "));
  out += fmt::format("| energy priced by stored grid data | {}% |\n",
                     fixed(100 * h.stored_share(), 1));
  out += fmt::format("| energy priced by the embedded typical profile | {}% |\n",
                     fixed(100 * h.embedded_share(), 1));
  out += "| method | SCI (ISO/IEC 21031:2024) as in Dodge et al. (2022) |\n";
  if (run.schedule) {
    if (auto v = schedule_view(*run.schedule)) out += "\n" + schedule_markdown(*v);
  }
  return out;
}

}  // namespace carbonclock
