// The IntensitySeries promises every importer makes, checked on each fuzz result.
#pragma once

#include <cmath>

#include "fuzz/fuzz_util.h"
#include "grid/importers.h"

namespace carbonclock::fuzz {

inline void check_series(const Result<std::vector<IntensitySeries>>& r) {
  if (!r.ok()) {
    check_error(r.error());
    return;
  }
  for (const IntensitySeries& s : *r) {
    require(validate_series(s, "fuzz").ok(), "importer returned a series that fails validation");
    for (const IntensityPoint& p : s.points) {
      require(in_time_range(p.start), "point outside the supported time range");
      require(p.duration > Nanos(0) && p.duration <= kMaxDuration, "bad point duration");
      require(std::isfinite(p.g_per_kwh) && p.g_per_kwh >= 0, "bad point value");
    }
    if (s.issued_at) require(in_time_range(*s.issued_at), "issued_at outside the range");
    // What `grid show --format json` does with it must not throw either.
    nlohmann::json j = {{"zone", s.zone}, {"source", s.source}};
    require(!dump_json(std::move(j)).empty(), "dump_json returned nothing");
  }
}

}  // namespace carbonclock::fuzz
