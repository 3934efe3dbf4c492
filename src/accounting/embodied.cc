#include "accounting/embodied.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>

namespace carbonclock {
namespace {

constexpr double kSecondsPerYear = 365.25 * 24 * 3600;
// Cloud Carbon Footprint's rack-server lifespan, used for every item (users override it).
constexpr double kDefaultLifetimeYears = 4;
// The CCF base server includes one CPU socket and 16 GB of DRAM.
constexpr double kBaseServerDramGb = 16;

const std::array<HardwareItem, 7>& catalogue() {
  // Sources (full references in docs/accounting.md):
  //  [NVIDIA-PCF] NVIDIA, "HGX H100 PCF Summary": 1,312 kgCO2e cradle-to-gate for one 8-GPU HGX
  //    H100 baseboard, so 164 kg per GPU.
  //  [BLOOM] Luccioni, Viguier, Ligozat, "Estimating the Carbon Footprint of BLOOM", JMLR 24
  //    (253), 2023: 150 kgCO2eq per A100 GPU.
  //  [CCF] Cloud Carbon Footprint coefficients (cloud-carbon-footprint/cloud-carbon-coefficients,
  //    ccfcoef/constants.py, from the Dell PowerEdge R740 LCA): 1,000 kg base rack server (one
  //    socket, 16 GB DRAM, no storage), 100 kg per additional CPU, 150 kg per GPU card,
  //    533 kg per 384 GB DRAM, 4-year lifespan.
  static const std::array<HardwareItem, 7> items{{
      {"h100", HardwareClass::kGpu, "NVIDIA H100", 1312.0 / 8, kDefaultLifetimeYears,
       "NVIDIA HGX H100 PCF summary (1,312 kg per 8-GPU board)"},
      {"a100", HardwareClass::kGpu, "NVIDIA A100", 150, kDefaultLifetimeYears,
       "Luccioni et al., JMLR 2023 (BLOOM)"},
      {"v100", HardwareClass::kGpu, "NVIDIA V100", 150, kDefaultLifetimeYears,
       "Cloud Carbon Footprint (per GPU card)"},
      {"gpu", HardwareClass::kGpu, "GPU (generic)", 150, kDefaultLifetimeYears,
       "Cloud Carbon Footprint (per GPU card)"},
      {"cpu-socket", HardwareClass::kCpuSocket, "CPU socket (beyond the first)", 100,
       kDefaultLifetimeYears, "Cloud Carbon Footprint (per additional CPU)"},
      {"server-base", HardwareClass::kServerBase, "server base (1 socket, 16 GB DRAM)", 1000,
       kDefaultLifetimeYears, "Cloud Carbon Footprint (Dell R740 LCA)"},
      {"dram-gb", HardwareClass::kDramPerGb, "DRAM per GB (beyond 16 GB)", 533.0 / 384,
       kDefaultLifetimeYears, "Cloud Carbon Footprint (Dell R740 LCA, 533 kg / 384 GB)"},
  }};
  return items;
}

const HardwareItem& item(std::string_view key) {
  for (const auto& i : catalogue()) {
    if (i.key == key) return i;
  }
  return catalogue()[3];
}

std::string upper(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

std::span<const HardwareItem> hardware_catalogue() { return catalogue(); }

const HardwareItem& gpu_item(std::string_view device_name) {
  const std::string name = upper(device_name);
  if (name.find("H100") != std::string::npos) return item("h100");
  if (name.find("A100") != std::string::npos) return item("a100");
  if (name.find("V100") != std::string::npos) return item("v100");
  return item("gpu");
}

Status validate(const EmbodiedOptions& o) {
  if (o.embodied_kg && !(*o.embodied_kg >= 0 && std::isfinite(*o.embodied_kg))) {
    return make_error("--embodied-kg {} must be a non-negative number of kgCO2eq", *o.embodied_kg);
  }
  if (o.lifetime_years && !(*o.lifetime_years > 0 && *o.lifetime_years <= 30)) {
    return make_error("--lifetime-years {} must be above 0 and at most 30", *o.lifetime_years);
  }
  if (!(o.machine_share > 0 && o.machine_share <= 1)) {
    return make_error("--machine-share {} must be above 0 and at most 1", o.machine_share);
  }
  if (!(o.dram_gb >= 0 && std::isfinite(o.dram_gb))) {
    return make_error("--dram-gb {} must not be negative", o.dram_gb);
  }
  return {};
}

EmbodiedAccount embodied_for_run(const RunRecord& run, const EmbodiedOptions& o) {
  EmbodiedAccount a;
  a.reserved_s = std::max(run.duration_s(), 0.0);
  a.share = o.machine_share;
  auto add = [&](std::string name, double count, double kg_each, double lifetime_years,
                 std::string source) {
    if (count <= 0) return;
    EmbodiedComponent c{std::move(name), count, kg_each, lifetime_years, std::move(source), 0};
    c.embodied_g =
        count * kg_each * 1000 * a.reserved_s / (lifetime_years * kSecondsPerYear) * a.share;
    a.te_kg += count * kg_each;
    a.embodied_g += c.embodied_g;
    a.components.push_back(std::move(c));
  };
  const double default_life = o.lifetime_years.value_or(kDefaultLifetimeYears);
  if (o.embodied_kg) {
    a.overridden = true;
    add("hardware (user-given total)", 1, *o.embodied_kg, default_life, "--embodied-kg");
    a.note = fmt::format("embodied total {} kg given by the user, amortised over {} years",
                         *o.embodied_kg, default_life);
    return a;
  }
  std::vector<std::pair<const HardwareItem*, int>> gpus;
  int sockets = 0;
  for (const auto& d : run.timeline.devices) {
    if (d.kind == DeviceKind::kGpu) {
      const HardwareItem* g = &gpu_item(d.name);
      auto it = std::find_if(gpus.begin(), gpus.end(), [g](auto& p) { return p.first == g; });
      if (it == gpus.end()) {
        gpus.emplace_back(g, 1);
      } else {
        ++it->second;
      }
    } else if (d.kind == DeviceKind::kCpu) {
      ++sockets;
    }
  }
  auto life = [&](const HardwareItem& i) { return o.lifetime_years.value_or(i.lifetime_years); };
  for (const auto& [g, n] : gpus) add(g->name, n, g->embodied_kg, life(*g), g->source);
  const auto& base = item("server-base");
  add(base.name, 1, base.embodied_kg, life(base), base.source);
  const auto& socket = item("cpu-socket");
  add(socket.name, std::max(sockets - 1, 0), socket.embodied_kg, life(socket), socket.source);
  const auto& dram = item("dram-gb");
  add(dram.name, std::max(o.dram_gb - kBaseServerDramGb, 0.0), dram.embodied_kg, life(dram),
      dram.source);
  int gpu_count = 0;
  for (const auto& p : gpus) gpu_count += p.second;
  a.note = fmt::format(
      "catalogue estimate: {} GPU(s), {} CPU package(s), a base server{}; {:.0f}% of the "
      "machine reserved",
      gpu_count, std::max(sockets, 1),
      o.dram_gb > 0 ? fmt::format(", {} GB DRAM", o.dram_gb)
                    : " (DRAM size unknown: pass --dram-gb)",
      100 * a.share);
  return a;
}

}  // namespace carbonclock
