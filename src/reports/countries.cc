#include "reports/countries.h"

#include <map>
#include <nlohmann/json.hpp>

#include "common/strings.h"

namespace carbonclock {
namespace {
#include "reports/iso_3166_1.inc"

const std::map<std::string, Country>& countries() {
  static const std::map<std::string, Country> table = [] {
    std::map<std::string, Country> out;
    auto doc = nlohmann::json::parse(std::begin(kIso3166Json), std::end(kIso3166Json));
    for (const auto& c : doc.at("3166-1")) {
      out[c.at("alpha_2").get<std::string>()] = {c.at("alpha_3").get<std::string>(),
                                                 c.value("common_name", c.value("name", ""))};
    }
    return out;
  }();
  return table;
}

}  // namespace

const Country* country_by_alpha2(std::string_view alpha2) {
  std::string key;
  for (char c : alpha2) key += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  auto it = countries().find(key);
  return it == countries().end() ? nullptr : &it->second;
}

}  // namespace carbonclock
