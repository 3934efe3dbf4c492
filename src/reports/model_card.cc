#include "reports/model_card.h"

#include <fmt/format.h>

#include "common/units.h"
#include "reports/format.h"
#include "reports/statement.h"

namespace carbonclock {

std::string yaml_quoted(const std::string& text) {
  std::string out = "\"";
  for (char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += fmt::format("\\x{:02x}", static_cast<unsigned char>(c));
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

std::string report_model_card(const RunRecord& run, const CarbonAccount& a,
                              const std::string& training_type) {
  const auto& h = a.headline_signal();
  const EnergySplit split = energy_split(run);
  std::string priced;
  for (const auto& p : priced_by(h, run)) priced += (priced.empty() ? "" : "; ") + p;
  std::string source = fmt::format(
      "carbonclock{}: {} kWh measured ({}% by hardware counters, {}% estimated) x {} grid "
      "intensity ({}/{}{}; {}) x PUE {:.2f}; embodied emissions not included ({} g); method: "
      "SCI (ISO/IEC 21031:2024) as in Dodge et al. 2022",
      run.carbonclock_version.empty() ? "" : " " + run.carbonclock_version,
      significant(a.energy_j / kJoulesPerKwh, 6), fixed(100 * split.measured_share(), 1),
      fixed(100 * split.estimated_share(), 1), to_string(h.signal), h.signal_label(),
      h.factor_label(), h.mix.mixed() ? ", mixed sources" : "", priced, a.pue,
      significant(a.embodied.embodied_g, 4));
  std::string out = "co2_eq_emissions:\n";
  // Plain decimals: PyYAML (YAML 1.1) reads "1e-05" as a string, not a number.
  out += fmt::format("  emissions: {}\n", significant(h.operational_g, 6));
  out += fmt::format("  source: {}\n", yaml_quoted(source));
  if (training_type.empty()) {
    out += "  # training_type: pre-training | fine-tuning (give it with --training-type)\n";
  } else {
    out += fmt::format("  training_type: {}\n", yaml_quoted(training_type));
  }
  out += fmt::format("  geographical_location: {}\n", yaml_quoted(zone_phrase(a)));
  out += fmt::format("  hardware_used: {}\n", yaml_quoted(hardware_phrase(run)));
  return out;
}

}  // namespace carbonclock
