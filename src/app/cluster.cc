#include "app/cluster.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <numeric>
#include <set>

#include "app/store_access.h"
#include "common/files.h"
#include "common/units.h"
#include "metering/journal.h"

namespace carbonclock {
namespace {

namespace fs = std::filesystem;

bool has_run_files(const fs::path& dir) {
  std::error_code ec;
  return fs::exists(dir / kRunFile, ec) || fs::exists(dir / kJournalFile, ec);
}

bool is_node_dir(const fs::path& dir) {
  std::error_code ec;
  return has_run_files(dir) || fs::is_directory(dir / kTasksDir, ec);
}

std::vector<fs::path> node_dirs(const fs::path& job_dir) {
  std::vector<fs::path> out;
  std::error_code ec;
  fs::directory_iterator it(job_dir, ec), end;
  for (; !ec && it != end; it.increment(ec)) {
    std::error_code e2;
    if (it->is_directory(e2) && is_node_dir(it->path())) out.push_back(it->path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::optional<size_t> device_index(const EnergyTimeline& t, const std::string& id) {
  for (size_t i = 0; i < t.devices.size(); ++i) {
    if (t.devices[i].id == id) return i;
  }
  return std::nullopt;
}

// The part of [from, to) that bucket `b` of `run` covers while the run was active.
Nanos active_overlap(const RunRecord& run, const TimelineBucket& b, SysTime from, SysTime to) {
  SysTime lo = std::max({b.start_utc, run.start_utc, from});
  SysTime hi = std::min({b.start_utc + run.timeline.bucket, run.end_utc, to});
  return hi > lo ? hi - lo : Nanos(0);
}

Nanos active_span(const RunRecord& run, const TimelineBucket& b) {
  return active_overlap(run, b, SysTime::min(), SysTime::max());
}

// Spreads `energy_j` evenly over [from, to) onto device `dev` of the run's buckets. Only the
// part inside the run's span is placed; returns the joules placed.
double spread_evenly(RunRecord& run, size_t dev, SysTime from, SysTime to, double energy_j) {
  if (to <= from) return 0;
  const double per_s = energy_j / to_seconds(to - from);
  double placed = 0;
  for (TimelineBucket& b : run.timeline.buckets) {
    double add = per_s * to_seconds(active_overlap(run, b, from, to));
    b.energy_j[dev] += add;
    placed += add;
  }
  return placed;
}

// A node meter's estimate follows its own task's processes only: add the CPU time the node's
// member tasks reported (the kernel's totals for their trees) with the same model.
void add_member_estimates(MergedNode& n, std::vector<std::string>& notes,
                          std::vector<std::string>& warnings) {
  RunRecord& run = *n.run;
  auto cpu = device_index(run.timeline, "cpu-estimate");
  auto dram = device_index(run.timeline, "dram-estimate");
  int members = 0;
  double cpu_s = 0;
  for (const TaskRecord& t : n.tasks) {
    if (t.role != TaskRole::kMember) continue;
    ++members;
    if (!cpu) continue;
    if (!t.cpu_s || !t.end_utc || !t.cpu_w_per_core) {
      warnings.push_back(fmt::format(
          "node {}: task {} reported no CPU time (still running, or killed): its CPU energy is "
          "not in cpu-estimate",
          n.node, t.rank));
      continue;
    }
    double energy_j = *t.cpu_s * *t.cpu_w_per_core;
    double placed = spread_evenly(run, *cpu, t.start_utc, *t.end_utc, energy_j);
    n.member_cpu_estimate_j += placed;
    cpu_s += *t.cpu_s;
    if (placed < energy_j * (1 - 1e-9)) {
      warnings.push_back(fmt::format(
          "node {}: task {} ran partly outside the node meter's run; {:.1f} J of its {:.1f} J "
          "estimated CPU energy are counted",
          n.node, t.rank, placed, energy_j));
    }
  }
  if (cpu && n.member_cpu_estimate_j > 0) {
    notes.push_back(fmt::format(
        "node {}: cpu-estimate includes {:.2f} CPU seconds of {} member task(s) ({:.1f} J), "
        "spread evenly over each task's run",
        n.node, cpu_s, members, n.member_cpu_estimate_j));
  }
  if (dram && members > 0) {
    notes.push_back(fmt::format(
        "node {}: dram-estimate covers the meter task's processes only, not the {} member "
        "task(s)",
        n.node, members));
  }
}

// A GPU (by UUID) in the runs of two nodes is counted once: per UTC bucket the larger of the
// two readings stays on the first node (by name), the other node keeps only buckets the first
// has not metered.
void dedupe_gpus(std::vector<MergedNode>& nodes, std::vector<std::string>& warnings) {
  struct Seen {
    size_t node;
    size_t device;
  };
  std::map<std::string, Seen> by_uuid;
  for (size_t ni = 0; ni < nodes.size(); ++ni) {
    if (!nodes[ni].run) continue;
    EnergyTimeline& tl = nodes[ni].run->timeline;
    for (size_t di = 0; di < tl.devices.size(); ++di) {
      const DeviceInfo& d = tl.devices[di];
      if (d.kind != DeviceKind::kGpu || d.uuid.empty()) continue;
      auto [it, fresh] = by_uuid.emplace(d.uuid, Seen{ni, di});
      if (fresh) continue;
      EnergyTimeline& keep = nodes[it->second.node].run->timeline;
      const size_t kd = it->second.device;
      std::map<SysTime, TimelineBucket*> kept;
      for (TimelineBucket& b : keep.buckets) kept[b.start_utc] = &b;
      double moved = 0;
      for (TimelineBucket& b : tl.buckets) {
        auto k = kept.find(b.start_utc);
        if (k == kept.end() || keep.bucket != tl.bucket) continue;
        moved += b.energy_j[di];
        k->second->energy_j[kd] = std::max(k->second->energy_j[kd], b.energy_j[di]);
        b.energy_j[di] = 0;
      }
      warnings.push_back(fmt::format(
          "GPU {} ({} on node {}, {} on node {}) was metered on both nodes: counted once ({:.1f} J "
          "of node {}'s readings fall in buckets node {} metered too)",
          d.uuid, keep.devices[kd].id, nodes[it->second.node].node, d.id, nodes[ni].node, moved,
          nodes[ni].node, nodes[it->second.node].node));
    }
  }
}

const SignalAccount* find_signal(const CarbonAccount& a, Signal s) {
  for (const SignalAccount& sa : a.signals) {
    if (sa.signal == s) return &sa;
  }
  return nullptr;
}

void price_nodes(ClusterReport& out, const MergeRequest& r, IntensityProvider& provider) {
  for (MergedNode& n : out.nodes) {
    if (!n.run) continue;
    auto inputs = resolve_inputs(r.choices, &*n.run);
    if (!inputs) {
      out.warnings.push_back(
          fmt::format("node {}: not priced: {}", n.node, inputs.error().message()));
      continue;
    }
    auto account = account_run(*n.run, *inputs, provider);
    if (!account) {
      out.warnings.push_back(
          fmt::format("node {}: not priced: {}", n.node, account.error().message()));
      continue;
    }
    n.account = std::move(*account);
  }
  // Signals: a job total only where every metered node has that signal.
  for (Signal s : {Signal::kMarginal, Signal::kAverage}) {
    MergedSignal ms;
    ms.signal = s;
    bool any = false;
    for (const MergedNode& n : out.nodes) {
      if (!n.run) continue;
      const SignalAccount* sa = n.account ? find_signal(*n.account, s) : nullptr;
      if (!sa) {
        ms.complete = false;
        continue;
      }
      any = true;
      ms.operational_g += sa->operational_g;
    }
    if (any && (ms.complete || s == Signal::kAverage)) out.signals.push_back(ms);
  }
  out.headline = 0;
  std::optional<Signal> asked;
  if (r.choices.signal) {
    if (auto s = parse_signal(*r.choices.signal); s) asked = *s;
  }
  for (size_t i = 0; i < out.signals.size(); ++i) {
    if (asked && out.signals[i].signal == *asked) out.headline = i;
  }
  for (const MergedNode& n : out.nodes) {
    if (n.account) out.embodied_g += n.account->embodied.embodied_g;
  }
}

void merge_timeline(ClusterReport& out) {
  int64_t bucket_ns = 0;
  for (const MergedNode& n : out.nodes) {
    if (!n.run) continue;
    int64_t b = n.run->timeline.bucket.count();
    bucket_ns = bucket_ns == 0 ? b : std::lcm(bucket_ns, b);
  }
  if (bucket_ns == 0) return;
  out.bucket = Nanos(bucket_ns);
  std::optional<Signal> headline;
  if (!out.signals.empty()) headline = out.headline_signal().signal;
  std::map<SysTime, MergedBucket> buckets;
  for (size_t ni = 0; ni < out.nodes.size(); ++ni) {
    const MergedNode& n = out.nodes[ni];
    if (!n.run) continue;
    const SignalAccount* sa = n.account && headline ? find_signal(*n.account, *headline) : nullptr;
    for (size_t bi = 0; bi < n.run->timeline.buckets.size(); ++bi) {
      const TimelineBucket& b = n.run->timeline.buckets[bi];
      MergedBucket& m = buckets[floor_to(b.start_utc, out.bucket)];
      m.node_energy_j.resize(out.nodes.size());
      double e = std::accumulate(b.energy_j.begin(), b.energy_j.end(), 0.0);
      m.node_energy_j[ni] += e;
      m.energy_j += e;
      if (sa && bi < sa->bucket_g.size()) m.operational_g += sa->bucket_g[bi];
    }
  }
  if (buckets.empty()) return;
  // Consecutive, no holes.
  for (SysTime t = buckets.begin()->first; t <= buckets.rbegin()->first; t += out.bucket) {
    MergedBucket& m = buckets[t];
    m.start_utc = t;
    m.node_energy_j.resize(out.nodes.size());
    out.timeline.push_back(m);
  }
}

void price_windows(ClusterReport& out) {
  std::optional<Signal> headline;
  if (!out.signals.empty()) headline = out.headline_signal().signal;
  for (const MergedNode& n : out.nodes) {
    for (const TaskRecord& t : n.tasks) {
      for (const TaskWindow& w : t.windows) {
        MergedWindow mw{n.node, t.rank, w.name, w.begin_utc, w.end_utc, 0, std::nullopt, false};
        if (n.run) {
          const SignalAccount* sa =
              n.account && headline ? find_signal(*n.account, *headline) : nullptr;
          double e = 0, g = 0;
          const auto& bs = n.run->timeline.buckets;
          for (size_t bi = 0; bi < bs.size(); ++bi) {
            Nanos span = active_span(*n.run, bs[bi]);
            if (span <= Nanos(0)) continue;
            double share = to_seconds(active_overlap(*n.run, bs[bi], w.begin_utc, w.end_utc)) /
                           to_seconds(span);
            e += share * std::accumulate(bs[bi].energy_j.begin(), bs[bi].energy_j.end(), 0.0);
            if (sa && bi < sa->bucket_g.size()) g += share * sa->bucket_g[bi];
          }
          mw.energy_j = e;
          if (sa) mw.operational_g = g;
          if (w.energy_j) {
            // The meter read the node's counters at the window's ends: exact where given.
            if (sa && e > 0) mw.operational_g = g * *w.energy_j / e;
            mw.energy_j = *w.energy_j;
            mw.from_counters = true;
          }
        }
        out.windows.push_back(std::move(mw));
      }
    }
  }
}

void find_missing(ClusterReport& out) {
  std::set<int> ranks;
  std::set<std::string> node_names;
  for (const MergedNode& n : out.nodes) {
    node_names.insert(n.node);
    for (const TaskRecord& t : n.tasks) {
      ranks.insert(t.rank);
      out.world_size = std::max(out.world_size, t.world_size);
      if (out.launcher.empty()) out.launcher = to_string(t.launcher);
    }
    if (n.run && n.run->cluster) {
      const auto& c = *n.run->cluster;
      if (c.contains("world_size") && c["world_size"].is_number_integer()) {
        out.world_size = std::max(out.world_size, c["world_size"].get<int>());
      }
      if (c.contains("node_count") && c["node_count"].is_number_integer()) {
        out.expected_nodes = std::max(out.expected_nodes.value_or(0), c["node_count"].get<int>());
      }
      if (out.launcher.empty()) out.launcher = c.value("launcher", "");
    }
    switch (n.state) {
      case NodeState::kNoMeter:
        out.warnings.push_back(fmt::format(
            "node {}: no meter wrote a run (only task files): its energy is missing", n.node));
        break;
      case NodeState::kRecovered:
        out.notes.push_back(fmt::format(
            "node {}: recovered from its journal (the node's meter was killed)", n.node));
        break;
      case NodeState::kComplete:
        break;
    }
    for (const TaskRecord& t : n.tasks) {
      if (!t.end_utc) {
        out.warnings.push_back(
            fmt::format("node {}: task {} has not recorded its end (still running, or killed)",
                        n.node, t.rank));
      }
    }
  }
  for (int r = 0; r < out.world_size; ++r) {
    if (!ranks.count(r)) out.missing_ranks.push_back(r);
  }
  if (!out.missing_ranks.empty()) {
    out.warnings.push_back(fmt::format("{} of {} tasks left no tasks/<rank>.json (ranks {})",
                                       out.missing_ranks.size(), out.world_size,
                                       fmt::join(out.missing_ranks, ", ")));
  }
  if (out.expected_nodes && static_cast<int>(out.nodes.size()) < *out.expected_nodes) {
    out.warnings.push_back(
        fmt::format("{} of the job's {} nodes left no run directory: their energy is missing",
                    *out.expected_nodes - static_cast<int>(out.nodes.size()), *out.expected_nodes));
  }
}

HistoryEntry job_entry(const ClusterReport& r) {
  HistoryEntry e;
  e.run_id = r.job_id;
  e.start_utc = r.start_utc;
  e.duration_s = to_seconds(r.end_utc - r.start_utc);
  e.energy_kwh = r.energy_j / kJoulesPerKwh;
  e.operational_g = r.operational_g();
  e.embodied_g = r.embodied_g;
  e.signal = r.signals.empty() ? "average" : to_string(r.headline_signal().signal);
  std::set<std::string> factors, tags;
  double stored_j = 0, priced_j = 0, pue_j = 0;
  for (const MergedNode& n : r.nodes) {
    if (!n.run) continue;
    for (const auto& t : n.run->tags) tags.insert(t);
    if (e.command.empty()) {
      for (const auto& a : n.run->command) e.command += (e.command.empty() ? "" : " ") + a;
    }
    if (n.run->exit_code && (!e.exit_code || *e.exit_code == 0)) e.exit_code = n.run->exit_code;
    e.recovered = e.recovered || n.run->recovered;
    if (!n.account || r.signals.empty()) continue;
    if (const SignalAccount* sa = find_signal(*n.account, r.headline_signal().signal)) {
      factors.insert(sa->factor_label());
      stored_j += sa->stored_energy_j;
      priced_j += sa->energy_j;
      pue_j += n.account->pue * sa->energy_j;
    }
  }
  e.factor = factors.size() == 1 ? *factors.begin() : factors.empty() ? "" : "mixed";
  e.zone = fmt::format("{}", fmt::join(r.zones(), ","));
  e.pue = priced_j > 0 ? pue_j / priced_j : 1.0;
  e.stored_share = priced_j > 0 ? stored_j / priced_j : 0.0;
  e.tags.assign(tags.begin(), tags.end());
  std::error_code ec;
  auto absolute = fs::absolute(r.job_dir, ec);
  e.run_dir = ec ? r.job_dir.string() : absolute.lexically_normal().string();
  return e;
}

// An exclusive lock on a file, released when destroyed.
class FileLock {
 public:
  explicit FileLock(const fs::path& path) {
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ >= 0 && ::flock(fd_, LOCK_EX) != 0) {
      error_ = errno_text(errno);
      ::close(fd_);
      fd_ = -1;
    } else if (fd_ < 0) {
      error_ = errno_text(errno);
    }
  }
  ~FileLock() {
    if (fd_ >= 0) ::close(fd_);
  }
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;
  const std::string& error() const { return error_; }

 private:
  int fd_ = -1;
  std::string error_;
};

}  // namespace

const char* to_string(NodeState state) {
  switch (state) {
    case NodeState::kComplete:
      return "complete";
    case NodeState::kRecovered:
      return "recovered";
    case NodeState::kNoMeter:
      break;
  }
  return "no-meter";
}

std::vector<std::string> ClusterReport::zones() const {
  std::set<std::string> z;
  for (const MergedNode& n : nodes) {
    if (n.account) z.insert(n.account->zone);
  }
  return {z.begin(), z.end()};
}

bool is_job_dir(const fs::path& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec) || has_run_files(dir)) return false;
  return !node_dirs(dir).empty();
}

Result<ClusterReport> merge_job(const MergeRequest& r, AppContext& ctx) {
  std::error_code ec;
  if (!fs::is_directory(r.job_dir, ec)) {
    return make_error(ErrorCode::kNotFound, "{}: no such directory", r.job_dir.string());
  }
  if (!is_job_dir(r.job_dir)) {
    return make_error(ErrorCode::kNotFound,
                      "{}: not a job directory (no node directory with run.json, journal.jsonl "
                      "or tasks/ inside)",
                      r.job_dir.string());
  }
  ClusterReport out;
  out.job_dir = r.job_dir;
  out.job_id = r.job_dir.filename().string();
  if (out.job_id.empty()) out.job_id = r.job_dir.parent_path().filename().string();
  for (const fs::path& dir : node_dirs(r.job_dir)) {
    MergedNode n;
    n.node = dir.filename().string();
    n.dir = dir;
    n.tasks = load_tasks(dir, out.warnings);
    if (has_run_files(dir)) {
      auto run = load_run(dir);
      if (!run) {
        out.warnings.push_back(fmt::format("node {}: {}", n.node, run.error().message()));
      } else {
        n.state = run->recovered ? NodeState::kRecovered : NodeState::kComplete;
        n.run = std::move(*run);
      }
    }
    if (n.run) add_member_estimates(n, out.notes, out.warnings);
    out.nodes.push_back(std::move(n));
  }
  dedupe_gpus(out.nodes, out.warnings);
  bool first = true;
  for (const MergedNode& n : out.nodes) {
    if (!n.run) continue;
    out.energy_j += n.energy_j();
    out.start_utc = first ? n.run->start_utc : std::min(out.start_utc, n.run->start_utc);
    out.end_utc = first ? n.run->end_utc : std::max(out.end_utc, n.run->end_utc);
    first = false;
  }
  if (first) {
    return make_error(ErrorCode::kNotFound,
                      "{}: no node of the job was metered (no run.json or journal.jsonl in any "
                      "node directory)",
                      r.job_dir.string());
  }
  find_missing(out);

  auto opened =
      open_store(r.db, r.record_history ? StoreMode::kCreate : StoreMode::kIfExists, ctx.env);
  if (!opened && r.record_history) opened = open_store(r.db, StoreMode::kIfExists, ctx.env);
  if (!opened) return opened.error();
  if (!opened->note.empty()) out.notes.push_back(opened->note);
  IntensityProvider provider(opened->get());
  price_nodes(out, r, provider);
  merge_timeline(out);
  price_windows(out);
  if (r.record_history && opened->get() != nullptr && !out.signals.empty()) {
    if (auto s = opened->get()->record_run(job_entry(out)); !s) {
      out.warnings.push_back("job not recorded in the history: " + s.error().message());
    }
  }
  return out;
}

void record_cluster_job(const fs::path& job_dir, const ZoneDefaults& defaults,
                        const std::string& db, AppContext& ctx) {
  FileLock lock(job_dir / ".history.lock");
  if (!lock.error().empty()) {
    ctx.observer.warning(fmt::format("{}: cannot lock the job's history record: {}",
                                     (job_dir / ".history.lock").string(), lock.error()));
    return;
  }
  MergeRequest request;
  request.job_dir = job_dir;
  request.choices.defaults = defaults;
  request.db = db;
  auto merged = merge_job(request, ctx);
  if (!merged) {
    ctx.observer.warning("job not recorded in the history: " + merged.error().message());
    return;
  }
  for (const auto& w : merged->warnings) {
    if (w.rfind("job not recorded", 0) == 0) ctx.observer.warning(w);
  }
}

}  // namespace carbonclock
