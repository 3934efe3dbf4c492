// Use case: `carbonclock report OUT/<job id>` / `carbonclock merge`: one report for a
// distributed job from its per-node run directories (app/distributed.h): per-node and
// per-device energy, the job's total, emissions priced per node's zone, the timeline summed on
// shared UTC buckets, and what is missing. The job is recorded in the history once, under its
// job id.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "accounting/accounting.h"
#include "app/context.h"
#include "app/distributed.h"
#include "metering/run_record.h"

namespace carbonclock {

/// Whether `dir` is a job directory: not itself a run directory, and at least one
/// subdirectory holds run.json, journal.jsonl or tasks/.
bool is_job_dir(const std::filesystem::path& dir);

struct MergeRequest {
  std::filesystem::path job_dir;
  /// Zone, PUE, signal, embodied options: given options apply to every node; otherwise each
  /// node's run.json, then the defaults.
  AccountingChoices choices;
  std::string db;  ///< --db; empty: the default store when it exists
  bool record_history = true;
};

enum class NodeState {
  kComplete,   ///< run.json written by the node's meter
  kRecovered,  ///< rebuilt from the meter's journal (the meter died)
  kNoMeter,    ///< task files only: no meter wrote anything (nothing metered on the node)
};
/// "complete" | "recovered" | "no-meter".
const char* to_string(NodeState state);

/// A node of the job as merged.
struct MergedNode {
  std::string node;
  std::filesystem::path dir;
  NodeState state = NodeState::kNoMeter;
  /// The node's run as merged: GPUs also metered on another node removed where counted there,
  /// members' CPU time added to cpu-estimate. Unset for kNoMeter.
  std::optional<RunRecord> run;
  std::optional<CarbonAccount> account;  ///< unset when not metered or not priced (warned)
  std::vector<TaskRecord> tasks;
  double member_cpu_estimate_j = 0;  ///< added to cpu-estimate from member tasks
  double energy_j() const { return run ? run->timeline.total_j() : 0.0; }
};

/// The job's operational emissions for one signal, summed over the nodes.
struct MergedSignal {
  Signal signal = Signal::kAverage;
  double operational_g = 0;  ///< Σ nodes, each with its own zone's intensity and PUE
  bool complete = true;      ///< every metered node was priced with this signal
};

/// A window of a task (Python `window()`), priced from its node's timeline.
struct MergedWindow {
  std::string node;
  int rank = 0;
  std::string name;
  SysTime begin_utc, end_utc;
  double energy_j = 0;
  std::optional<double> operational_g;  ///< headline signal; unset when the node is unpriced
  bool from_counters = false;           ///< the meter's own reading, not the timeline's share
};

struct MergedBucket {
  SysTime start_utc;
  std::vector<double> node_energy_j;  ///< per node, in `nodes` order
  double energy_j = 0;
  double operational_g = 0;  ///< headline signal, where priced
};

struct ClusterReport {
  std::string job_id;
  std::filesystem::path job_dir;
  std::string launcher;
  int world_size = 0;                 ///< largest world size any task or run states
  std::optional<int> expected_nodes;  ///< the launcher's node count, when known
  std::vector<MergedNode> nodes;      ///< by node name
  SysTime start_utc, end_utc;         ///< earliest start, latest end of the metered nodes
  double energy_j = 0;
  std::vector<MergedSignal> signals;  ///< marginal first when every node has it, then average
  size_t headline = 0;
  double embodied_g = 0;
  Nanos bucket{};
  std::vector<MergedBucket> timeline;  ///< consecutive shared UTC buckets
  std::vector<MergedWindow> windows;
  std::vector<int> missing_ranks;  ///< ranks below world_size without a tasks/<rank>.json
  /// Nodes not metered, duplicated GPUs, members' estimates, nodes missing altogether.
  std::vector<std::string> notes;
  std::vector<std::string> warnings;

  const MergedSignal& headline_signal() const { return signals[headline]; }
  double operational_g() const { return signals.empty() ? 0 : headline_signal().operational_g; }
  double total_g() const { return operational_g() + embodied_g; }
  /// Zones of the priced nodes, sorted, without repeats.
  std::vector<std::string> zones() const;
};

/// Loads every node of the job directory, merges and prices them, and records the job in the
/// history under its job id (once: a later merge replaces the entry). Errors: not a job
/// directory, bad options, no node metered at all.
Result<ClusterReport> merge_job(const MergeRequest& request, AppContext& ctx);

/// What `carbonclock run` calls when a node's meter has finished: merges the nodes finished so
/// far and records the job in the history, under an exclusive lock on JOB_DIR/.history.lock so
/// that the last node to finish records the whole job. Failures are warnings.
void record_cluster_job(const std::filesystem::path& job_dir, const ZoneDefaults& defaults,
                        const std::string& db, AppContext& ctx);

}  // namespace carbonclock
