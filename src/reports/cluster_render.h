// Outputs of a merged distributed job (`report OUT/<job id>`, `merge`): text and JSON
// (schemas/cluster-report.schema.json).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "app/cluster.h"
#include "reports/format.h"

namespace carbonclock {

/// Version of the cluster report JSON document.
inline constexpr int kClusterReportSchemaVersion = 1;

/// The job report as JSON: totals, per signal, per node (state, zone, devices, emissions,
/// tasks), per device, the merged timeline, windows, missing ranks, notes and warnings.
nlohmann::ordered_json cluster_report_json(const ClusterReport& report);

/// The terminal report: the job's totals, one line per node and per device, the emissions per
/// signal, tasks and windows, notes and warnings.
std::string cluster_report_text(const ClusterReport& report);

/// Format kJson or kText.
std::string render_cluster_report(const ClusterReport& report, Format format);

}  // namespace carbonclock
