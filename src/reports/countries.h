// Country names and ISO 3166-1 alpha-3 codes by alpha-2 code, from Debian's iso-codes
// (/usr/share/iso-codes/json/iso_3166-1.json, compiled in), for outputs that name countries as
// CodeCarbon does ("Germany", "DEU").
#pragma once

#include <string>
#include <string_view>

namespace carbonclock {

struct Country {
  std::string alpha3;  ///< "DEU"
  std::string name;    ///< the common name where iso-codes gives one ("South Korea"), else the name
};

/// The country of an alpha-2 code ("DE", case-insensitive); nullptr when unknown.
const Country* country_by_alpha2(std::string_view alpha2);

}  // namespace carbonclock
