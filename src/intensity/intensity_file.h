// A scripted intensity file (`--intensity-file`): CSV rows `start,duration_s,g_per_kwh` for
// tests and demos of carbon-aware execution.
#pragma once

#include <string>
#include <string_view>

#include "common/error.h"
#include "common/time.h"
#include "grid/series.h"

namespace carbonclock {

/// Parses an intensity file's text; `origin` names it in errors ("FILE:LINE: ..."). A header
/// `start,duration_s,g_per_kwh` is required; `#` starts a comment line. `start` is a UTC time
/// ("2026-01-01T10:00:00Z") or "+SECONDS" after `anchor`. Rows must not overlap.
Result<IntensitySeries> parse_intensity_file(std::string_view text, const std::string& origin,
                                             SysTime anchor);

}  // namespace carbonclock
