// Unit constants. Names carry units everywhere else (energy_j, intensity_g_per_kwh); these are
// the only conversion factors.
#pragma once

namespace carbonclock {

/// Joules in one kilowatt-hour.
inline constexpr double kJoulesPerKwh = 3.6e6;
/// Joules in one watt-hour.
inline constexpr double kJoulesPerWh = 3600.0;

}  // namespace carbonclock
