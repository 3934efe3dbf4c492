#include "accounting/equivalents.h"

#include <fmt/format.h>

#include <array>

namespace carbonclock {

std::span<const EquivalentFactor> equivalent_factors() {
  // US EPA Greenhouse Gas Equivalencies Calculator (2021), metric tonnes CO2 per unit as quoted
  // in Dodge et al. 2022; converted to grams.
  static const std::array<EquivalentFactor, 6> factors{{
      {"smartphone_charges", "smartphone charges", "smartphone charge", 8.22e-6 * 1e6},
      {"miles_driven", "miles driven by an average car", "mile driven", 3.98e-4 * 1e6},
      {"gallons_gasoline", "gallons of gasoline burned", "gallon of gasoline", 8.887e-3 * 1e6},
      {"barrels_oil", "barrels of oil consumed", "barrel of oil", 0.43 * 1e6},
      {"us_home_years", "US homes' energy use for one year", "US home-year of energy", 8.30 * 1e6},
      {"rail_cars_coal", "rail cars of coal burned", "rail car of coal", 181.29 * 1e6},
  }};
  return factors;
}

std::vector<Equivalent> equivalents(double grams) {
  std::vector<Equivalent> out;
  for (const auto& f : equivalent_factors()) out.push_back({f.key, f.label, grams / f.g_each});
  return out;
}

std::string equivalents_sentence(double grams) {
  std::string out;
  for (const auto& e : equivalents(grams)) {
    if (e.key == "barrels_oil" || e.key == "rail_cars_coal") continue;
    out += fmt::format("{}{:.3g} {}", out.empty() ? "" : ", ", e.count, e.label);
  }
  return out;
}

}  // namespace carbonclock
