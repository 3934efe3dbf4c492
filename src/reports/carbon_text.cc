// Text and Markdown renderings of a run's carbon account.
#include <fmt/format.h>

#include <cmath>

#include "accounting/equivalents.h"
#include "reports/carbon_report.h"
#include "reports/summary.h"

namespace carbonclock {
namespace {

constexpr double kJoulesPerKwh = 3.6e6;

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
    rests += fmt::format("{:.1f}% stored data ({})", 100 * s.stored_share(), s.source);
  }
  if (s.embedded_energy_j > 0) {
    rests += fmt::format("{}{:.1f}% {}", rests.empty() ? "" : ", ", 100 * s.embedded_share(),
                         s.fallback_source);
  }
  if (s.unpriced_energy_j > 0) {
    rests +=
        fmt::format("{}{:.1f}% not priced", rests.empty() ? "" : ", ", 100 * s.unpriced_share());
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

std::string device_list(const RunRecord& run) {
  // "2 × NVIDIA H100 80GB HBM3, 1 × package-0"
  std::vector<std::pair<std::string, int>> counts;
  for (const auto& d : run.timeline.devices) {
    if (d.kind == DeviceKind::kDram) continue;
    std::string name = d.name.empty() ? d.id : d.name;
    bool found = false;
    for (auto& c : counts) {
      if (c.first == name) ++c.second, found = true;
    }
    if (!found) counts.emplace_back(name, 1);
  }
  std::string out;
  for (const auto& [name, n] : counts) {
    out += fmt::format("{}{} × {}", out.empty() ? "" : ", ", n, name);
  }
  return out.empty() ? "no metered devices" : out;
}

}  // namespace

std::string format_grams(double grams) {
  double a = std::fabs(grams);
  if (a < 1 && a > 0) return fmt::format("{:.1f} mg", grams * 1000);
  if (a < 1000) return fmt::format("{:.2f} g", grams);
  if (a < 1e6) return fmt::format("{:.3f} kg", grams / 1000);
  return fmt::format("{:.3f} t", grams / 1e6);
}

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
  out += "    ≈ " + equivalents_sentence(a.total_g()) + "\n";
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
  add("  IT energy {:.6f} kWh; {} → facility energy {:.6f} kWh\n", a.energy_j / kJoulesPerKwh,
      pue_text(a), a.energy_j * a.pue / kJoulesPerKwh);
  add("grid: {}, chosen by {}\n", zone_text(a), a.zone_origin.empty() ? "?" : a.zone_origin);
  add("operational emissions (E × I × PUE), headline {}: {} CO2eq\n",
      to_string(a.headline_signal().signal), format_grams(a.operational_g()));
  add("  why this signal: {}\n", a.headline_reason);
  for (const auto& s : a.signals) add("  {}\n", signal_line(s));
  const auto& m = a.embodied;
  add("embodied emissions (M = TE × TiR/EL × RR/ToR): {} CO2eq\n", format_grams(m.embodied_g));
  add("  {}; TE {:.1f} kg, reserved {}\n", m.note, m.te_kg,
      format_duration(from_seconds(m.reserved_s)));
  for (const auto& c : m.components) {
    add("  {:<38} {:>6g} × {:>8.1f} kg / {:g} y  {:>10}  [{}]\n", c.name, c.count, c.kg_each,
        c.lifetime_years, format_grams(c.embodied_g), c.source);
  }
  add("SCI = (E × I + M) / R: {} CO2eq per {}", format_grams(a.sci_g_per_unit()), per_text(a));
  if (a.unit && a.unit->work) {
    add(" (the run did {:g} {}, R = {:g})", *a.unit->work, a.unit->unit, a.unit->units_done());
  }
  add("\n");
  add("total {} CO2eq ≈ {}\n", format_grams(a.total_g()), equivalents_sentence(a.total_g()));
  add("coverage (what the numbers rest on):\n");
  for (const auto& n : a.notes) add("  {}\n", n);
  for (const auto& w : run.warnings) add("  run warning: {}\n", w);
  if (!run_dir.empty()) add("run: {}\n", run_dir);
  return out;
}

std::string report_markdown(const RunRecord& run, const CarbonAccount& a) {
  const auto& h = a.headline_signal();
  std::string source = h.source;
  if (!h.fallback_source.empty()) {
    source +=
        (source.empty() ? "" : fmt::format(" ({:.0f}% of the energy), ", 100 * h.stored_share())) +
        h.fallback_source +
        (h.stored_energy_j > 0 ? fmt::format(" ({:.0f}%)", 100 * h.embedded_share()) : "");
  }
  const double hours = run.duration_s() / 3600;
  const double kwh = a.energy_j / kJoulesPerKwh;
  std::string out = "## Carbon statement\n\n";
  out += fmt::format(
      "This job ran on {} for {:.2f} hours ({}) and used {:.3f} kWh of electricity as measured "
      "by carbonclock (GPU, CPU and DRAM where available). It ran in grid {}{}. With a PUE of "
      "{:.2f}, its operational emissions were {:.4g} gCO2eq using the {} carbon-intensity "
      "signal from {}, integrated interval by interval over the run. Embodied emissions of the "
      "reserved hardware add {:.4g} gCO2eq, for a total of {:.4g} gCO2eq{}. The method follows "
      "the Software Carbon Intensity specification (SCI = (E × I + M) / R; ISO/IEC "
      "21031:2024) as applied by Dodge et al. (2022), \"Measuring the Carbon Intensity of AI in "
      "Cloud Instances\".\n\n",
      device_list(run), hours, format_utc(run.start_utc), kwh, a.zone,
      a.region ? " (cloud region " + *a.region + ")" : std::string(), a.pue, h.operational_g,
      to_string(h.signal), source, a.embodied.embodied_g, a.total_g(),
      a.unit ? fmt::format(" ({:.3g} gCO2eq per {})", a.sci_g_per_unit(), a.unit->text()) : "");
  out += "| quantity | value |\n|---|---|\n";
  out += fmt::format("| hardware | {} |\n", device_list(run));
  out += fmt::format("| duration | {:.2f} h |\n", hours);
  out += fmt::format("| energy (IT) | {:.3f} kWh |\n", kwh);
  out += fmt::format("| PUE | {:.2f} |\n", a.pue);
  out += fmt::format("| grid zone | {}{} |\n", a.zone, a.region ? " (" + *a.region + ")" : "");
  for (const auto& s : a.signals) {
    out += fmt::format("| operational, {} signal{} | {:.4g} gCO2eq |\n", to_string(s.signal),
                       &s == &h ? " (headline)" : "", s.operational_g);
  }
  out += fmt::format("| embodied | {:.4g} gCO2eq |\n", a.embodied.embodied_g);
  out += fmt::format("| SCI per {} | {:.3g} gCO2eq |\n", per_text(a), a.sci_g_per_unit());
  out += fmt::format("| intensity data (headline) | {} signal, {} emission factors{} |\n",
                     h.signal_label(), h.factor_label(),
                     h.mix.mixed() ? " (mixed sources: see the JSON report's provenance)" : "");
  out += fmt::format("| energy priced by stored grid data | {:.0f}% |\n", 100 * h.stored_share());
  out += fmt::format("| energy priced by the embedded typical profile | {:.0f}% |\n",
                     100 * h.embedded_share());
  return out;
}

}  // namespace carbonclock
