// Test helpers for the forecasting tests: synthetic hourly histories with a known structure.
#pragma once

#include <cmath>
#include <random>
#include <vector>

#include "forecasting/history.h"

namespace carbonclock::testing {

/// Monday 2024-01-01 00:00 UTC.
inline SysTime monday() { return SysTime{std::chrono::hours(24 * 19723)}; }

/// A daily shape with a weekend dip: 300 + 100 sin(2π hour/24), 60 lower on Saturdays and
/// Sundays (hourly slots from monday()).
inline double pattern(size_t hour) {
  double day = std::sin(2 * M_PI * static_cast<double>(hour % 24) / 24.0);
  bool weekend = (hour / 24) % 7 >= 5;
  return 300 + 100 * day - (weekend ? 60 : 0);
}

/// pattern() plus an AR(1) anomaly z_t = phi z_{t−1} + N(0, sigma), hourly, from monday().
inline SlotHistory synthetic_history(size_t hours, double phi, double sigma, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> noise(0, sigma);
  SlotHistory h;
  h.info.zone = "TEST";
  h.first_slot_utc = monday();
  h.slot = std::chrono::hours(1);
  double z = 0;
  for (size_t i = 0; i < hours; ++i) {
    z = phi * z + noise(rng);
    h.g_per_kwh.push_back(pattern(i) + z);
  }
  return h;
}

}  // namespace carbonclock::testing
