// Pieces of the HTML report (report_html, reports/carbon_report.h) that tests read as data
// rather than as SVG.
#pragma once

#include "metering/run_record.h"
#include "reports/carbon_report.h"
#include "reports/svg_chart.h"

namespace carbonclock {

/// The power chart: one step series per device, in watts over seconds since the run's start,
/// from the journal's samples (extras.power) when there are any, else from the timeline's
/// buckets. Each series ends with a point at the end of its last step, so the area under every
/// step series is the device's energy in what it was drawn from.
LineChart power_line_chart(const RunRecord& run, const HtmlExtras& extras);

}  // namespace carbonclock
