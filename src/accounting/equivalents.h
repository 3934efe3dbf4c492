// Plain-language equivalents of an amount of CO2eq, with the US EPA Greenhouse Gas
// Equivalencies Calculator factors (2021) that Dodge et al. 2022 used.
#pragma once

#include <span>
#include <string>
#include <vector>

namespace carbonclock {

struct EquivalentFactor {
  std::string key;       ///< "smartphone_charges"
  std::string label;     ///< "smartphone charges"
  std::string singular;  ///< "smartphone charge"
  double g_each = 0;     ///< gCO2eq per unit
};

/// The EPA factors: smartphone charge 8.22 g, mile driven 398 g, gallon of gasoline 8,887 g,
/// barrel of oil 430 kg, a US home's energy for a year 8.30 t, rail car of coal 181.29 t.
std::span<const EquivalentFactor> equivalent_factors();

struct Equivalent {
  std::string key;
  std::string label;
  double count = 0;  ///< how many of them `grams` is worth
};

/// `grams` expressed in each factor, in the order of equivalent_factors().
std::vector<Equivalent> equivalents(double grams);

/// Phone charges, miles, gallons and home-years, each "N label", with N to three
/// significant figures: "12.2 smartphone charges, 0.252 miles driven, ...".
std::string equivalents_sentence(double grams);

}  // namespace carbonclock
