// `shift` and `whatif` outputs: text and JSON (schemas/shift.schema.json).
#pragma once

#include <string>

#include "app/shift.h"
#include "reports/format.h"

namespace carbonclock {

/// Every zone's baseline and plans, what each rests on, then the best zone unshifted (spatial)
/// and with each shifting (spatio-temporal). Format kText or kJson.
std::string render_shift(const ShiftResult& result, Format format);

}  // namespace carbonclock
