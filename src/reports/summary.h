// Human-readable summaries of a measured run.
#pragma once

#include <string>

#include "metering/run_record.h"
#include "reports/format.h"

namespace carbonclock {

/// "850 J", "12.3 Wh", "4.56 kWh": joules below 1 Wh, Wh below 1 kWh.
std::string format_energy(double energy_j);

/// The run's command line, its arguments joined by spaces.
std::string join_command(const RunRecord& run);

/// The energy unit of the device table: chosen by its largest number (the total), so every row
/// and the total line share it.
ScaledUnit device_table_unit(const RunRecord& run);

/// One line per device: id, name, method, energy, average power, "(estimated)" where modelled.
std::string device_energy_lines(const RunRecord& run);

/// The short summary printed when a run ends: duration, exit code, energy by device and in
/// total, average power, measured share, warnings and the run directory.
std::string run_summary_text(const RunRecord& run, const std::string& run_dir);

}  // namespace carbonclock
