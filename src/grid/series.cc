#include "grid/series.h"

namespace carbonclock {

const char* to_string(Signal s) { return s == Signal::kMarginal ? "marginal" : "average"; }
const char* to_string(Factor f) { return f == Factor::kLifecycle ? "lifecycle" : "direct"; }

Result<Signal> parse_signal(std::string_view text) {
  if (text == "marginal") return Signal::kMarginal;
  if (text == "average") return Signal::kAverage;
  return make_error("unknown signal '{}' (marginal or average)", text);
}

Result<Factor> parse_factor(std::string_view text) {
  if (text == "lifecycle" || text == "lca") return Factor::kLifecycle;
  if (text == "direct") return Factor::kDirect;
  return make_error("unknown emission-factor type '{}' (lifecycle or direct)", text);
}

}  // namespace carbonclock
