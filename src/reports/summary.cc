#include "reports/summary.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "common/units.h"
#include "reports/format.h"

namespace carbonclock {

std::string format_energy(double energy_j) { return in_unit(energy_j, energy_unit_for(energy_j)); }

std::string join_command(const RunRecord& run) {
  std::string cmd;
  for (const auto& a : run.command) cmd += (cmd.empty() ? "" : " ") + a;
  return cmd;
}

ScaledUnit device_table_unit(const RunRecord& run) {
  // The total is the table's largest number.
  double largest = std::fabs(run.timeline.total_j());
  for (double t : run.timeline.device_totals_j()) largest = std::max(largest, std::fabs(t));
  return energy_unit_for(largest);
}

std::string device_energy_lines(const RunRecord& run) {
  std::string out;
  auto totals = run.timeline.device_totals_j();
  const double duration_s = std::max(run.duration_s(), 1e-9);
  const ScaledUnit unit = device_table_unit(run);
  for (size_t i = 0; i < totals.size(); ++i) {
    const auto& d = run.timeline.devices[i];
    fmt::format_to(std::back_inserter(out), "  {:<14} {:<28} {:<17} {:>12}  {:>8} W{}\n", d.id,
                   d.name.substr(0, 28), to_string(d.method), in_unit(totals[i], unit),
                   fixed(totals[i] / duration_s, 1),
                   d.method == Method::kEstimate ? "  (estimated)" : "");
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
  add("  total {} ({:.6f} kWh), average power {} W, {}% measured by counters\n",
      in_unit(total, device_table_unit(run)), total / kJoulesPerKwh, fixed(total / duration_s, 1),
      fixed(100 * run.measured_share(), 0));
  for (const auto& w : run.warnings) add("  warning: {}\n", w);
  if (!run_dir.empty()) add("  run: {}\n", run_dir);
  return out;
}

}  // namespace carbonclock
