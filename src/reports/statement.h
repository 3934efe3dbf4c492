// Sentences several carbon reports share (text, Markdown, HTML, model card): the hardware, the
// measured and estimated shares of the energy, and what priced the energy. Internal to reports.
#pragma once

#include <string>
#include <vector>

#include "accounting/accounting.h"
#include "metering/run_record.h"

namespace carbonclock {

/// "1 × NVIDIA H100 80GB HBM3 GPU and Intel(R) Xeon(R) Platinum 8259CL CPU (96 logical
/// CPUs)": GPUs by model, then the CPU (its model from host_info when known).
std::string hardware_phrase(const RunRecord& run);

/// Energy measured by counters or power readings (NVML, RAPL) and estimated, each with what it
/// covers.
struct EnergySplit {
  double measured_j = 0;
  double estimated_j = 0;
  std::vector<std::string> measured_devices;   ///< "gpu0 (NVML energy counter)"
  std::vector<std::string> estimated_devices;  ///< "cpu-estimate (job process-tree CPU ...)"
  double measured_share() const;
  double estimated_share() const;
};
EnergySplit energy_split(const RunRecord& run);

/// What priced one signal's energy, one entry per part: "62.0% stored marginal/direct data
/// (watttime, 2026)", "38.0% the embedded typical profile (average, Electricity Maps, 2023)".
std::vector<std::string> priced_by(const SignalAccount& signal, const RunRecord& run);

/// "2026" or "2025–2026": the UTC years the run spans (the years of the stored data used).
std::string run_years(const RunRecord& run);

/// The zone for prose: "DE (Germany)", "US-NW-BPAT (Bonneville Power Administration; cloud
/// region us-west-2)".
std::string zone_phrase(const CarbonAccount& account);

/// The method sentence with its references.
std::string method_citation();

}  // namespace carbonclock
