#include "reports/statement.h"

#include <fmt/format.h>

#include <algorithm>

#include "regions/catalogue.h"
#include "reports/format.h"

namespace carbonclock {
namespace {

std::string method_text(const DeviceInfo& d) {
  switch (d.method) {
    case Method::kCounter:
      return d.kind == DeviceKind::kGpu ? "NVML energy counter" : "RAPL energy counter";
    case Method::kPowerIntegration:
      return "NVML power readings integrated over time";
    case Method::kEstimate:
      return d.note.empty() ? "estimate" : "estimate: " + d.note;
  }
  return "?";
}

}  // namespace

std::string hardware_phrase(const RunRecord& run) {
  std::vector<std::pair<std::string, int>> gpus;
  int packages = 0;
  bool cpu_estimate = false;
  for (const auto& d : run.timeline.devices) {
    if (d.kind == DeviceKind::kGpu) {
      std::string name = d.name.empty() ? d.id : d.name;
      auto it = std::find_if(gpus.begin(), gpus.end(), [&](auto& g) { return g.first == name; });
      if (it == gpus.end()) {
        gpus.emplace_back(name, 1);
      } else {
        ++it->second;
      }
    } else if (d.kind == DeviceKind::kCpu) {
      if (d.method == Method::kEstimate) {
        cpu_estimate = true;
      } else {
        ++packages;
      }
    }
  }
  std::vector<std::string> parts;
  for (const auto& [name, n] : gpus) parts.push_back(fmt::format("{} × {} GPU", n, name));
  const HostInfo* h = run.host_info ? &*run.host_info : nullptr;
  const std::string model = h && !h->cpu_model.empty() ? h->cpu_model : "";
  const std::string cpus =
      h && h->logical_cpus > 0 ? fmt::format(" ({} logical CPUs)", h->logical_cpus) : "";
  if (packages > 0) {
    parts.push_back(fmt::format("{} × {} CPU package{}{}", packages,
                                model.empty() ? "unidentified" : model, packages == 1 ? "" : "s",
                                cpus));
  } else if (cpu_estimate || !model.empty()) {
    parts.push_back(model.empty() ? "an unidentified CPU" : fmt::format("{} CPU{}", model, cpus));
  }
  if (parts.empty()) return "no metered hardware";
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    out += (i == 0 ? "" : i + 1 == parts.size() ? " and " : ", ") + parts[i];
  }
  return out;
}

double EnergySplit::measured_share() const {
  double all = measured_j + estimated_j;
  return all > 0 ? measured_j / all : 0;
}

double EnergySplit::estimated_share() const {
  double all = measured_j + estimated_j;
  return all > 0 ? estimated_j / all : 0;
}

EnergySplit energy_split(const RunRecord& run) {
  EnergySplit s;
  auto totals = run.timeline.device_totals_j();
  for (size_t i = 0; i < totals.size(); ++i) {
    const auto& d = run.timeline.devices[i];
    std::string what = fmt::format("{} ({})", d.id, method_text(d));
    if (d.method == Method::kEstimate) {
      s.estimated_j += totals[i];
      s.estimated_devices.push_back(std::move(what));
    } else {
      s.measured_j += totals[i];
      s.measured_devices.push_back(std::move(what));
    }
  }
  return s;
}

std::string run_years(const RunRecord& run) {
  std::string a = format_utc(run.start_utc).substr(0, 4);
  std::string b = format_utc(run.end_utc).substr(0, 4);
  return a == b ? a : a + "–" + b;
}

std::vector<std::string> priced_by(const SignalAccount& s, const RunRecord& run) {
  std::vector<std::string> out;
  for (const auto& part : s.parts) {
    const Provenance& p = part.provenance;
    const std::string share = fixed(s.energy_j > 0 ? 100 * part.energy_j / s.energy_j : 0, 1) + "%";
    if (p.basis == IntensityBasis::kEmbedded) {
      out.push_back(fmt::format("{} the {}", share, p.source));
    } else {
      out.push_back(fmt::format("{} stored {} {}/{} data ({}, {}{})", share, to_string(p.basis),
                                to_string(p.signal), to_string(p.factor),
                                p.source.empty() ? "unnamed source" : p.source, run_years(run),
                                p.zone.empty() ? "" : ", zone " + p.zone));
    }
  }
  if (s.unpriced_energy_j > 0) {
    out.push_back(fmt::format("{}% not priced (no intensity known: a lower bound)",
                              fixed(100 * s.unpriced_share(), 1)));
  }
  return out;
}

std::string zone_phrase(const CarbonAccount& a) {
  std::string out = a.zone;
  std::vector<std::string> extra;
  if (const GridZone* z = find_zone(a.zone); z && !z->name.empty()) extra.push_back(z->name);
  if (a.region) extra.push_back("cloud region " + *a.region);
  if (!extra.empty()) {
    out += " (";
    for (size_t i = 0; i < extra.size(); ++i) out += (i ? "; " : "") + extra[i];
    out += ")";
  }
  return out;
}

std::string method_citation() {
  return "The method follows the Software Carbon Intensity specification of the Green Software "
         "Foundation (SCI = (E × I + M) / R; ISO/IEC 21031:2024) as applied to machine learning "
         "by Dodge et al. (2022), \"Measuring the Carbon Intensity of AI in Cloud Instances\", "
         "FAccT 2022 (doi:10.1145/3531146.3533234): the energy timeline is multiplied interval by "
         "interval by the grid's carbon intensity, then by the PUE.";
}

}  // namespace carbonclock
