#include "reports/summary.h"

#include <fmt/format.h>

namespace carbonclock {

std::string format_energy(double energy_j) {
  double wh = energy_j / 3600.0;
  if (wh < 1) return fmt::format("{:.1f} J", energy_j);
  if (wh < 1000) return fmt::format("{:.2f} Wh", wh);
  return fmt::format("{:.3f} kWh", wh / 1000.0);
}

std::string join_command(const RunRecord& run) {
  std::string cmd;
  for (const auto& a : run.command) cmd += (cmd.empty() ? "" : " ") + a;
  return cmd;
}

std::string device_energy_lines(const RunRecord& run) {
  std::string out;
  auto totals = run.timeline.device_totals_j();
  const double duration_s = std::max(run.duration_s(), 1e-9);
  for (size_t i = 0; i < totals.size(); ++i) {
    const auto& d = run.timeline.devices[i];
    fmt::format_to(std::back_inserter(out), "  {:<14} {:<28} {:<17} {:>12}  {:>8.1f} W{}\n", d.id,
                   d.name.substr(0, 28), to_string(d.method), format_energy(totals[i]),
                   totals[i] / duration_s, d.method == Method::kEstimate ? "  (estimated)" : "");
  }
  return out;
}

std::string run_summary_text(const RunRecord& run, const std::string& run_dir) {
  std::string out;
  auto add = [&out]<typename... Args>(fmt::format_string<Args...> f, Args&&... args) {
    fmt::format_to(std::back_inserter(out), f, std::forward<Args>(args)...);
  };
  add("carbonclock: '{}' ran {} ({}), exit code {}\n", join_command(run),
      format_duration(run.end_utc - run.start_utc), format_utc(run.start_utc),
      run.exit_code ? std::to_string(*run.exit_code) : "unknown");
  if (run.recovered) add("  (recovered from the journal)\n");
  out += device_energy_lines(run);
  const double duration_s = std::max(run.duration_s(), 1e-9);
  double total = run.timeline.total_j();
  add("  total {} ({:.6f} kWh), average power {:.1f} W, {:.0f}% measured by counters\n",
      format_energy(total), total / 3.6e6, total / duration_s, 100 * run.measured_share());
  for (const auto& w : run.warnings) add("  warning: {}\n", w);
  if (!run_dir.empty()) add("  run: {}\n", run_dir);
  return out;
}

}  // namespace carbonclock
