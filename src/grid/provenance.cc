#include "grid/provenance.h"

#include <fmt/format.h>

namespace carbonclock {

const char* to_string(IntensityBasis basis) {
  switch (basis) {
    case IntensityBasis::kFile:
      return "file";
    case IntensityBasis::kForecast:
      return "forecast";
    case IntensityBasis::kActual:
      return "actual";
    case IntensityBasis::kRecentActuals:
      return "recent-actuals";
    case IntensityBasis::kEmbedded:
      return "embedded-profile";
    case IntensityBasis::kUnpriced:
      return "unpriced";
  }
  return "?";
}

std::string Provenance::label() const {
  if (basis == IntensityBasis::kUnpriced) return "unpriced";
  std::string out =
      fmt::format("{} {} {}/{}", to_string(basis), zone, to_string(signal), to_string(factor));
  if (!source.empty() || issued_at) {
    out += " (" + source;
    if (issued_at)
      out += fmt::format("{}issued {}", source.empty() ? "" : ", ", format_utc(*issued_at));
    out += ")";
  }
  return out;
}

ProvenanceSummary summarize(std::span<const Provenance> used) {
  ProvenanceSummary s;
  for (const Provenance& p : used) {
    if (p.basis == IntensityBasis::kUnpriced) continue;
    std::string sig = to_string(p.signal), fac = to_string(p.factor);
    s.signal = s.signal.empty() || s.signal == sig ? sig : "mixed";
    s.factor = s.factor.empty() || s.factor == fac ? fac : "mixed";
  }
  return s;
}

}  // namespace carbonclock
