#include "reports/cluster_render.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "common/units.h"
#include "metering/run_record.h"
#include "reports/carbon_report.h"
#include "reports/summary.h"

namespace carbonclock {
namespace {

using ojson = nlohmann::ordered_json;

ojson or_null(const std::optional<double>& v) { return v ? ojson(*v) : ojson(nullptr); }

const SignalAccount* node_signal(const MergedNode& n, Signal s) {
  if (!n.account) return nullptr;
  for (const SignalAccount& sa : n.account->signals) {
    if (sa.signal == s) return &sa;
  }
  return nullptr;
}

std::optional<double> node_grams(const ClusterReport& r, const MergedNode& n) {
  if (r.signals.empty()) return std::nullopt;
  const SignalAccount* sa = node_signal(n, r.headline_signal().signal);
  return sa ? std::optional(sa->operational_g) : std::nullopt;
}

ojson task_json(const TaskRecord& t) {
  ojson j;
  j["rank"] = t.rank;
  j["local_rank"] = t.local_rank;
  j["role"] = to_string(t.role);
  j["pid"] = t.pid;
  j["start_utc"] = format_utc_millis(t.start_utc);
  j["end_utc"] = t.end_utc ? ojson(format_utc_millis(*t.end_utc)) : ojson(nullptr);
  j["exit_code"] = t.exit_code ? ojson(*t.exit_code) : ojson(nullptr);
  j["processes"] = t.processes.size();
  j["cpu_s"] = or_null(t.cpu_s);
  if (!t.note.empty()) j["note"] = t.note;
  return j;
}

ojson node_json(const ClusterReport& r, const MergedNode& n) {
  ojson j;
  j["node"] = n.node;
  j["dir"] = n.dir.string();
  j["state"] = to_string(n.state);
  j["zone"] = n.account ? ojson(n.account->zone) : ojson(nullptr);
  j["pue"] = n.account ? ojson(n.account->pue) : ojson(nullptr);
  j["energy_j"] = n.energy_j();
  j["member_cpu_estimate_j"] = n.member_cpu_estimate_j;
  j["operational_g"] = or_null(node_grams(r, n));
  j["embodied_g"] = n.account ? ojson(n.account->embodied.embodied_g) : ojson(nullptr);
  ojson signals = ojson::array();
  if (n.account) {
    for (const SignalAccount& sa : n.account->signals) {
      signals.push_back({{"signal", to_string(sa.signal)},
                         {"operational_g", sa.operational_g},
                         {"mean_g_per_kwh", sa.mean_g_per_kwh()},
                         {"priced_signal", sa.signal_label()},
                         {"factor", sa.factor_label()},
                         {"stored_share", sa.stored_share()},
                         {"embedded_share", sa.embedded_share()},
                         {"unpriced_share", sa.unpriced_share()}});
    }
  }
  j["signals"] = std::move(signals);
  if (n.run) {
    j["start_utc"] = format_utc_millis(n.run->start_utc);
    j["end_utc"] = format_utc_millis(n.run->end_utc);
    j["host"] = n.run->host;
  }
  ojson tasks = ojson::array();
  for (const TaskRecord& t : n.tasks) tasks.push_back(task_json(t));
  j["tasks"] = std::move(tasks);
  return j;
}

std::string node_line(const ClusterReport& r, const MergedNode& n) {
  auto g = node_grams(r, n);
  return fmt::format("  {:<16} {:<9} {:<12} {:>12}  {:>10}  {} task{}\n", n.node,
                     to_string(n.state), n.account ? n.account->zone : "-",
                     n.run ? format_energy(n.energy_j()) : "-", g ? format_grams(*g) : "-",
                     n.tasks.size(), n.tasks.size() == 1 ? "" : "s");
}

std::string ranks_text(const std::vector<int>& ranks) {
  return ranks.empty() ? "none" : fmt::format("{}", fmt::join(ranks, ", "));
}

}  // namespace

ojson cluster_report_json(const ClusterReport& r) {
  ojson j;
  j["cluster_report_schema_version"] = kClusterReportSchemaVersion;
  j["job_id"] = r.job_id;
  j["job_dir"] = r.job_dir.string();
  j["launcher"] = r.launcher;
  j["world_size"] = r.world_size;
  j["expected_nodes"] = r.expected_nodes ? ojson(*r.expected_nodes) : ojson(nullptr);
  j["start_utc"] = format_utc_millis(r.start_utc);
  j["end_utc"] = format_utc_millis(r.end_utc);
  j["duration_s"] = to_seconds(r.end_utc - r.start_utc);
  j["energy_j_total"] = r.energy_j;
  j["energy_kwh_total"] = r.energy_j / kJoulesPerKwh;
  j["headline_signal"] =
      r.signals.empty() ? ojson(nullptr) : ojson(to_string(r.headline_signal().signal));
  j["operational_g"] = r.operational_g();
  j["embodied_g"] = r.embodied_g;
  j["total_g"] = r.total_g();
  j["zones"] = r.zones();
  ojson signals = ojson::array();
  for (const MergedSignal& s : r.signals) {
    signals.push_back({{"signal", to_string(s.signal)},
                       {"operational_g", s.operational_g},
                       {"complete", s.complete}});
  }
  j["signals"] = std::move(signals);
  ojson nodes = ojson::array();
  ojson devices = ojson::array();
  for (const MergedNode& n : r.nodes) {
    nodes.push_back(node_json(r, n));
    if (!n.run) continue;
    auto totals = n.run->timeline.device_totals_j();
    for (size_t i = 0; i < n.run->timeline.devices.size(); ++i) {
      const DeviceInfo& d = n.run->timeline.devices[i];
      ojson dj = ojson(device_to_json(d));
      dj["node"] = n.node;
      dj["energy_j"] = totals[i];
      devices.push_back(std::move(dj));
    }
  }
  j["nodes"] = std::move(nodes);
  j["devices"] = std::move(devices);
  ojson timeline = ojson::array();
  for (const MergedBucket& b : r.timeline) {
    ojson per_node = ojson::object();
    for (size_t i = 0; i < r.nodes.size() && i < b.node_energy_j.size(); ++i) {
      per_node[r.nodes[i].node] = b.node_energy_j[i];
    }
    timeline.push_back({{"bucket_start_utc", format_utc(b.start_utc)},
                        {"bucket_s", to_seconds(r.bucket)},
                        {"energy_j", b.energy_j},
                        {"operational_g", b.operational_g},
                        {"nodes", std::move(per_node)}});
  }
  j["timeline"] = std::move(timeline);
  ojson windows = ojson::array();
  for (const MergedWindow& w : r.windows) {
    windows.push_back({{"node", w.node},
                       {"rank", w.rank},
                       {"name", w.name},
                       {"begin_utc", format_utc_millis(w.begin_utc)},
                       {"end_utc", format_utc_millis(w.end_utc)},
                       {"energy_j", w.energy_j},
                       {"operational_g", or_null(w.operational_g)},
                       {"energy_from", w.from_counters ? "counters" : "timeline"}});
  }
  j["windows"] = std::move(windows);
  j["missing_ranks"] = r.missing_ranks;
  j["notes"] = r.notes;
  j["warnings"] = r.warnings;
  return j;
}

std::string cluster_report_text(const ClusterReport& r) {
  std::string out =
      fmt::format("job {} ({}{} tasks on {} node{}): {} to {} ({})\n", r.job_id,
                  r.launcher.empty() ? "" : r.launcher + ", ", r.world_size, r.nodes.size(),
                  r.nodes.size() == 1 ? "" : "s", format_utc(r.start_utc), format_utc(r.end_utc),
                  format_duration(r.end_utc - r.start_utc));
  out += fmt::format("energy      {}\n", format_energy(r.energy_j));
  if (r.signals.empty()) {
    out += "emissions   not priced (see the warnings)\n";
  } else {
    const MergedSignal& h = r.headline_signal();
    out += fmt::format(
        "emissions   {} operational ({}; each node priced in its own zone: {}), {} embodied, "
        "{} in total\n",
        format_grams(h.operational_g), to_string(h.signal), fmt::join(r.zones(), ", "),
        format_grams(r.embodied_g), format_grams(r.total_g()));
    for (const MergedSignal& s : r.signals) {
      out += fmt::format("  {:<8} {:>10}{}\n", to_string(s.signal), format_grams(s.operational_g),
                         s.complete ? "" : "  (not every node has this signal)");
    }
  }
  out += fmt::format("  {:<16} {:<9} {:<12} {:>12}  {:>10}\n", "node", "state", "zone", "energy",
                     "emissions");
  for (const MergedNode& n : r.nodes) out += node_line(r, n);
  out += "devices\n";
  for (const MergedNode& n : r.nodes) {
    if (!n.run) continue;
    auto totals = n.run->timeline.device_totals_j();
    for (size_t i = 0; i < n.run->timeline.devices.size(); ++i) {
      const DeviceInfo& d = n.run->timeline.devices[i];
      out += fmt::format("  {:<16} {:<14} {:<18} {:>12}  {}{}\n", n.node, d.id,
                         d.uuid.empty() ? d.name : d.uuid, format_energy(totals[i]),
                         to_string(d.method), d.method == Method::kEstimate ? " (estimated)" : "");
    }
  }
  out += "tasks\n";
  for (const MergedNode& n : r.nodes) {
    for (const TaskRecord& t : n.tasks) {
      out += fmt::format("  rank {:<4} {:<16} {:<6} pid {:<8} exit {:<5} {} process{}\n", t.rank,
                         n.node, to_string(t.role), t.pid,
                         t.exit_code ? std::to_string(*t.exit_code) : "-", t.processes.size(),
                         t.processes.size() == 1 ? "" : "es");
    }
  }
  if (!r.missing_ranks.empty())
    out += fmt::format("  missing ranks: {}\n", ranks_text(r.missing_ranks));
  if (!r.windows.empty()) {
    out += "windows\n";
    for (const MergedWindow& w : r.windows) {
      out += fmt::format("  {:<20} rank {:<4} {} {} {:>12}  {}\n", w.name, w.rank,
                         format_utc(w.begin_utc), format_duration(w.end_utc - w.begin_utc),
                         format_energy(w.energy_j),
                         w.operational_g ? format_grams(*w.operational_g) : "-");
    }
  }
  for (const auto& n : r.notes) out += fmt::format("note: {}\n", n);
  for (const auto& w : r.warnings) out += fmt::format("warning: {}\n", w);
  out += fmt::format("job directory: {}\n", r.job_dir.string());
  return out;
}

std::string render_cluster_report(const ClusterReport& report, Format format) {
  if (format == Format::kJson) return json_text(cluster_report_json(report));
  return cluster_report_text(report);
}

}  // namespace carbonclock
