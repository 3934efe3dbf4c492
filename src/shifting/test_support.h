// Test helpers for the shifting tests: slotted series from values, random series and profiles.
#pragma once

#include <random>
#include <vector>

#include "common/time.h"
#include "shifting/slots.h"

namespace carbonclock::testing {

inline SysTime t0() { return SysTime{std::chrono::hours(24 * 365 * 53)}; }  // 2023-01-01-ish

/// Slotted intensity from g/kWh values (NaN: a gap), 5-minute slots starting at t0().
inline SlottedIntensity slotted(const std::vector<double>& g_per_kwh,
                                Nanos slot = std::chrono::minutes(5)) {
  auto s = slot_series(series_from_values("TEST", floor_to(t0(), slot), slot, g_per_kwh), slot);
  return std::move(s).value();
}

/// A measured-style profile from per-slot energies.
inline JobProfile profile(const std::vector<double>& energy_kwh,
                          Nanos slot = std::chrono::minutes(5)) {
  JobProfile p;
  p.name = "test";
  p.slot = slot;
  p.energy_kwh = energy_kwh;
  p.flat = false;
  return p;
}

/// Random intensities from a small set of integers (ties are common), in g/kWh.
inline std::vector<double> random_tied_values(std::mt19937_64& rng, size_t n, int distinct) {
  std::uniform_int_distribution<int> d(1, distinct);
  std::vector<double> v(n);
  for (double& x : v) x = 100.0 * d(rng);
  return v;
}

/// Random real-valued intensities (ties are rare), in g/kWh.
inline std::vector<double> random_real_values(std::mt19937_64& rng, size_t n) {
  std::uniform_real_distribution<double> d(20.0, 900.0);
  std::vector<double> v(n);
  for (double& x : v) x = d(rng);
  return v;
}

}  // namespace carbonclock::testing
