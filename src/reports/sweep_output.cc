#include "reports/sweep_output.h"

#include <fmt/format.h>

#include <cmath>
#include <limits>

#include "reports/format.h"
#include "shifting/plan.h"

namespace carbonclock {
namespace {

template <typename... Args>
void append(std::string& out, fmt::format_string<Args...> format, Args&&... args) {
  fmt::format_to(std::back_inserter(out), format, std::forward<Args>(args)...);
}

std::string pct(double v) { return std::isnan(v) ? "–" : fixed(v, 1); }
std::string rate(double v) { return std::isnan(v) ? "–" : fixed(v, 2); }

}  // namespace

std::string sweep_csv_header() {
  return "job,zone,start_utc,window,algorithm,baseline_g,shifted_g,reduction_pct,pauses\n";
}

void append_sweep_csv(const SweepCell& cell, const SweepLabels& labels, std::string& out) {
  const std::string job = csv_field(labels.jobs[cell.job]);
  const std::string zone = csv_field(labels.zones[cell.zone]);
  const std::vector<SysTime>& starts = labels.zone_starts[cell.zone];
  for (size_t q = 0; q < starts.size(); ++q) {
    std::string start = format_utc_minutes(floor_to(starts[q], labels.slot));
    for (size_t w = 0; w < cell.windows.size(); ++w) {
      const SweepCell::Window& win = cell.windows[w];
      if (win.status[q] != StartStatus::kOk) continue;
      const std::string& label = labels.windows[w];
      double base = win.baseline_g[q];
      fmt::format_to(std::back_inserter(out), "{},{},{},{},flexible-start,{:.6f},{:.6f},{},0\n",
                     job, zone, start, label, base, win.fs_g[q],
                     fixed(reduction_pct(base, win.fs_g[q]), 4));
      fmt::format_to(std::back_inserter(out), "{},{},{},{},pause-resume,{:.6f},{:.6f},{},{}\n",
                     job, zone, start, label, base, win.pr_g[q],
                     fixed(reduction_pct(base, win.pr_g[q]), 4),
                     win.pr_pauses[q]);
    }
  }
}

void append_sweep_json(const SweepCell& cell, const SweepLabels& labels,
                       nlohmann::ordered_json& rows) {
  const std::vector<SysTime>& starts = labels.zone_starts[cell.zone];
  for (size_t q = 0; q < starts.size(); ++q) {
    SysTime start = floor_to(starts[q], labels.slot);
    for (size_t w = 0; w < cell.windows.size(); ++w) {
      const SweepCell::Window& win = cell.windows[w];
      if (win.status[q] != StartStatus::kOk) continue;
      double base = win.baseline_g[q];
      nlohmann::ordered_json fs = {
          {"job", labels.jobs[cell.job]},
          {"zone", labels.zones[cell.zone]},
          {"start_utc", format_utc_minutes(start)},
          {"window", labels.windows[w]},
          {"algorithm", "flexible-start"},
          {"baseline_g", base},
          {"shifted_g", win.fs_g[q]},
          {"reduction_pct", reduction_pct(base, win.fs_g[q])},
          {"pauses", 0},
          {"chosen_start_utc", format_utc_minutes(start + labels.slot * win.fs_offset[q])}};
      rows.push_back(std::move(fs));
      rows.push_back({{"job", labels.jobs[cell.job]},
                      {"zone", labels.zones[cell.zone]},
                      {"start_utc", format_utc_minutes(start)},
                      {"window", labels.windows[w]},
                      {"algorithm", "pause-resume"},
                      {"baseline_g", base},
                      {"shifted_g", win.pr_g[q]},
                      {"reduction_pct", reduction_pct(base, win.pr_g[q])},
                      {"pauses", win.pr_pauses[q]}});
    }
  }
}

std::string sweep_json(std::span<const SweepZone> zones, Nanos slot, const SweepSummary& summary,
                       std::span<const std::optional<SweepCell>> cells, const SweepLabels& labels) {
  nlohmann::ordered_json j;
  auto& series = j["series"] = nlohmann::ordered_json::array();
  for (const SweepZone& z : zones) {
    series.push_back({{"zone", z.intensity.zone},
                      {"signal", to_string(z.intensity.signal)},
                      {"factor", to_string(z.intensity.factor)},
                      {"source", z.intensity.source}});
  }
  j["slot_s"] = to_seconds(slot);
  j["skipped_outside_data"] = summary.skipped_outside;
  j["skipped_gap"] = summary.skipped_gap;
  auto& rows = j["rows"] = nlohmann::ordered_json::array();
  for (const auto& cell : cells) {
    if (cell) append_sweep_json(*cell, labels, rows);
  }
  return json_text(j);
}

std::string sweep_markdown(const SweepSummary& summary, const SweepLabels& labels, bool by_zone) {
  std::string out;
  append(out, "# Shifting sweep\n\n");
  append(out, "Series used (zone signal/factor, source):\n\n");
  for (size_t z = 0; z < labels.zones.size(); ++z) {
    append(out, "- {} — {} requested starts\n", labels.zone_series[z],
           labels.zone_starts[z].size());
  }
  append(out,
         "\nSlots of {}. Reductions are against running at the requested start, in percent: the "
         "mean over each zone's starts, then the mean over zones. Pauses are per hour of job "
         "runtime (Pause and Resume).\n",
         format_duration(labels.slot));
  append(out,
         "{} (job, zone, start, window) combinations computed; skipped: {} whose window runs "
         "outside the data, {} with a gap in the window.\n",
         summary.rows_ok, summary.skipped_outside, summary.skipped_gap);
  for (size_t w = 0; w < labels.windows.size(); ++w) {
    append(out, "\n## Window +{}\n\n", labels.windows[w]);
    append(out, "| job | Flexible Start (%) | Pause and Resume (%) | P&R pauses/h |\n");
    append(out, "|---|---:|---:|---:|\n");
    for (size_t j = 0; j < labels.jobs.size(); ++j) {
      append(out, "| {} | {} | {} | {} |\n", labels.jobs[j], pct(summary.fs_reduction_pct(j, w)),
             pct(summary.pr_reduction_pct(j, w)), rate(summary.pr_pauses_per_hour(j, w)));
    }
    if (!by_zone) continue;
    append(out, "\n### Window +{} by zone\n\n", labels.windows[w]);
    append(out,
           "| job | zone | starts | Flexible Start (%) | Pause and Resume (%) | P&R pauses/h |\n");
    append(out, "|---|---|---:|---:|---:|---:|\n");
    for (size_t j = 0; j < labels.jobs.size(); ++j) {
      for (size_t z = 0; z < labels.zones.size(); ++z) {
        append(out, "| {} | {} | {} | {} | {} | {} |\n", labels.jobs[j], labels.zones[z],
               summary.zone_starts_used(j, z, w), pct(summary.zone_fs_reduction_pct(j, z, w)),
               pct(summary.zone_pr_reduction_pct(j, z, w)),
               rate(summary.zone_pr_pauses_per_hour(j, z, w)));
      }
    }
  }
  return out;
}

}  // namespace carbonclock
