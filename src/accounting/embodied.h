// Embodied emissions of the hardware a run reserved, after the SCI specification:
// M = TE × (TiR / EL) × (RR / ToR). TE comes from a small built-in catalogue whose numbers are
// cited in docs/accounting.md (and beside each entry); users override TE and EL.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "metering/run_record.h"

namespace carbonclock {

enum class HardwareClass { kGpu, kCpuSocket, kServerBase, kDramPerGb };

/// One catalogue entry: embodied kgCO2eq (cradle to gate) and the default lifetime.
struct HardwareItem {
  std::string key;  ///< "h100", "a100", "v100", "gpu", "cpu-socket", "server-base", "dram-gb"
  HardwareClass cls = HardwareClass::kGpu;
  std::string name;        ///< "NVIDIA H100 (SXM)"
  double embodied_kg = 0;  ///< per unit (per GB for DRAM)
  double lifetime_years = 0;
  std::string source;  ///< short citation; full references in docs/accounting.md
};

/// The built-in catalogue, GPUs first. Never empty.
std::span<const HardwareItem> hardware_catalogue();

/// The catalogue entry for a GPU named as NVML names it ("NVIDIA H100 80GB HBM3",
/// "Tesla V100-SXM2-16GB", "Fake A100"): matched by model token (H100, A100, V100), else the
/// generic GPU entry. Never null.
const HardwareItem& gpu_item(std::string_view device_name);

/// What the user may change. Unset fields take catalogue defaults.
struct EmbodiedOptions {
  std::optional<double> embodied_kg;     ///< TE of everything reserved, replaces the catalogue
  std::optional<double> lifetime_years;  ///< EL for every item
  double machine_share = 1.0;            ///< RR / ToR: share of the machine the run reserved
  double dram_gb = 0;                    ///< installed DRAM; 0 = unknown (base server's only)
};

/// Rejects a negative embodied_kg, a lifetime that is not positive or over 30 years, a share
/// outside (0, 1] and a negative DRAM size, naming the option.
Status validate(const EmbodiedOptions& options);

/// One line of the embodied account.
struct EmbodiedComponent {
  std::string name;
  double count = 0;  ///< units (GB for DRAM)
  double kg_each = 0;
  double lifetime_years = 0;
  std::string source;
  double embodied_g = 0;  ///< this component's share of M for the run
};

struct EmbodiedAccount {
  double te_kg = 0;         ///< total embodied emissions of the reserved hardware
  double reserved_s = 0;    ///< TiR: the run's duration
  double share = 1.0;       ///< RR / ToR
  double embodied_g = 0;    ///< M
  bool overridden = false;  ///< TE given by the user
  std::vector<EmbodiedComponent> components;
  std::string note;  ///< what the estimate assumes, for reports
};

/// M for a run: one catalogue GPU per metered GPU, the base server (which includes one CPU
/// socket and 16 GB DRAM), one extra socket per metered CPU package beyond the first, and DRAM
/// beyond 16 GB when dram_gb is given; each amortised as kg × 1000 × duration / lifetime ×
/// machine_share. With embodied_kg set, one user component replaces them all. Options must
/// have passed validate().
EmbodiedAccount embodied_for_run(const RunRecord& run, const EmbodiedOptions& options);

}  // namespace carbonclock
