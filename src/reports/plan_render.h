// `plan` outputs: text, JSON (schemas/plan.schema.json) and sbatch options.
#pragma once

#include <string>
#include <vector>

#include "app/schedule.h"
#include "reports/format.h"

namespace carbonclock {

/// Format kText, kJson or kSbatch (`--begin=LOCAL_TIME` in the submitting host's time zone and
/// `--time=` the allocation the plan needs: its first start to its last run's end).
std::string render_plan(const PlanResult& plan, Format format);

/// With kSbatch: what to tell the user beside the options (the local time zone, pauses).
std::vector<std::string> sbatch_notes(const PlanResult& plan);

}  // namespace carbonclock
