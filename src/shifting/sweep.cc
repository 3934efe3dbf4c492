#include "shifting/sweep.h"

#include <date/date.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <numeric>
#include <thread>

#include "shifting/flat_sweep.h"
#include "shifting/plan.h"
#include "common/strings.h"

namespace carbonclock {
namespace {


std::vector<std::string> split_csv_line(std::string_view line) {
  std::vector<std::string> out;
  std::string field;
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        field += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      out.emplace_back(trim(field));
      field.clear();
    } else {
      field += c;
    }
  }
  out.emplace_back(trim(field));
  return out;
}

template <typename F>
void for_each_line(std::string_view content, F&& f) {
  size_t line_no = 0, pos = 0;
  while (pos < content.size()) {
    size_t nl = content.find('\n', pos);
    if (nl == std::string_view::npos) nl = content.size();
    ++line_no;
    if (!f(line_no, trim(content.substr(pos, nl - pos)))) return;
    pos = nl + 1;
  }
}

Result<double> parse_number(const std::string& text) {
  char* end = nullptr;
  double v = std::strtod(text.c_str(), &end);
  if (text.empty() || end != text.c_str() + text.size() || !std::isfinite(v)) {
    return make_error("'{}' is not a number", text);
  }
  return v;
}

}  // namespace

std::vector<SweepJob> paper_jobs() {
  return {
      {"BERT finetune", 6, 3.1},   {"BERT pretrain", 36, 37.3}, {"6B Transformer", 192, 13812.4},
      {"DenseNet 121", 0.3, 0.02}, {"DenseNet 169", 0.3, 0.03}, {"DenseNet 201", 0.4, 0.04},
      {"ViT Tiny", 19, 1.7},       {"ViT Small", 19, 2.2},      {"ViT Base", 21, 4.7},
      {"ViT Large", 90, 93.3},     {"ViT Huge", 216, 237.6},
  };
}

Result<std::vector<SweepJob>> parse_jobs_csv(std::string_view content, std::string_view origin) {
  std::vector<SweepJob> jobs;
  std::optional<Error> error;
  int name_col = -1, hours_col = -1, energy_col = -1;
  for_each_line(content, [&](size_t line_no, std::string_view line) {
    if (line.empty() || line.front() == '#') return true;
    auto fields = split_csv_line(line);
    if (name_col < 0) {
      for (size_t i = 0; i < fields.size(); ++i) {
        if (fields[i] == "name") name_col = static_cast<int>(i);
        if (fields[i] == "duration_h") hours_col = static_cast<int>(i);
        if (fields[i] == "energy_kwh") energy_col = static_cast<int>(i);
      }
      if (name_col < 0 || hours_col < 0 || energy_col < 0) {
        error =
            make_error("{}:{}: expected the header name,duration_h,energy_kwh", origin, line_no);
        return false;
      }
      return true;
    }
    auto need = static_cast<size_t>(std::max({name_col, hours_col, energy_col}));
    if (fields.size() <= need) {
      error = make_error("{}:{}: expected {} fields, found {}", origin, line_no, need + 1,
                         fields.size());
      return false;
    }
    SweepJob job;
    job.name = fields[static_cast<size_t>(name_col)];
    auto hours = parse_number(fields[static_cast<size_t>(hours_col)]);
    auto energy = parse_number(fields[static_cast<size_t>(energy_col)]);
    if (!hours || !energy) {
      error = (!hours ? hours.error() : energy.error())
                  .with_context(fmt::format("{}:{}", origin, line_no));
      return false;
    }
    if (job.name.empty() || *hours <= 0 || *energy < 0) {
      error = make_error("{}:{}: a job needs a name, duration_h > 0 and energy_kwh >= 0", origin,
                         line_no);
      return false;
    }
    job.duration_h = *hours;
    job.energy_kwh = *energy;
    jobs.push_back(std::move(job));
    return true;
  });
  if (error) return *error;
  if (name_col < 0) return make_error("{}: empty jobs file", origin);
  if (jobs.empty()) return make_error("{}: no jobs", origin);
  return jobs;
}

Result<std::vector<SysTime>> parse_starts(std::string_view content, std::string_view origin) {
  std::vector<SysTime> out;
  std::optional<Error> error;
  for_each_line(content, [&](size_t line_no, std::string_view line) {
    if (line.empty() || line.front() == '#') return true;
    auto t = parse_utc(line);
    if (!t) {
      error = t.error().with_context(fmt::format("{}:{}", origin, line_no));
      return false;
    }
    out.push_back(*t);
    return true;
  });
  if (error) return *error;
  if (out.empty()) return make_error("{}: no start times", origin);
  return out;
}

std::vector<SysTime> starts_per_month(SysTime from, SysTime to, int per_month) {
  using namespace date;
  std::vector<SysTime> out;
  if (per_month <= 0 || to <= from) return out;
  auto first_day = year_month_day{floor<days>(from)};
  year_month month = first_day.year() / first_day.month();
  while (true) {
    sys_days month_start = sys_days{month / 1};
    if (SysTime{month_start} >= to) break;
    auto days_in_month = static_cast<int>(unsigned((month / last).day()));
    for (int j = 0; j < per_month; ++j) {
      int day = j * days_in_month / per_month;
      int hour = j * 24 / per_month;
      SysTime t = SysTime{month_start} + std::chrono::days(day) + std::chrono::hours(hour);
      if (t >= from && t < to) out.push_back(t);
    }
    month += months(1);
  }
  return out;
}

std::vector<SysTime> starts_every(SysTime from, SysTime to, Nanos step) {
  std::vector<SysTime> out;
  if (step <= Nanos(0)) return out;
  SysTime t = floor_to(from, step);
  if (t < from) t += step;
  for (; t < to; t += step) out.push_back(t);
  return out;
}

void SweepWindowTotals::add(const SweepWindowTotals& other) {
  ok += other.ok;
  outside += other.outside;
  gap += other.gap;
  fs_reduction_pct += other.fs_reduction_pct;
  pr_reduction_pct += other.pr_reduction_pct;
  pr_pauses += other.pr_pauses;
}

namespace {

/// A job's slot counts, shared by every zone.
struct JobShape {
  size_t job_slots = 0;
  double job_hours = 0;
  double energy_kwh_per_slot = 0;
  std::vector<size_t> window_slots;  ///< N per window
};

JobShape job_shape(const SweepJob& job, const std::vector<ShiftWindow>& windows, Nanos slot) {
  JobShape shape;
  shape.job_slots = job_slots(from_seconds(job.duration_h * 3600.0), slot);
  shape.job_hours = static_cast<double>(shape.job_slots) * to_seconds(slot) / 3600.0;
  shape.energy_kwh_per_slot = job.energy_kwh / static_cast<double>(shape.job_slots);
  for (const ShiftWindow& w : windows) {
    shape.window_slots.push_back(window_slots(w, shape.job_slots, slot));
  }
  return shape;
}

/// A zone's requested starts floored to slots (−1 before the data) in ascending order, stable:
/// order[i] is the index in SweepZone::starts of the i-th.
struct SortedStarts {
  std::vector<uint32_t> order;
  std::vector<int64_t> slot;
};

SortedStarts sort_starts(const SweepZone& zone, Nanos slot) {
  const SlottedIntensity& in = zone.intensity;
  const size_t n = zone.starts.size();
  std::vector<int64_t> by_index(n, -1);
  for (size_t q = 0; q < n; ++q) {
    SysTime t = floor_to(zone.starts[q], slot);
    if (t >= in.first_slot_utc) by_index[q] = (t - in.first_slot_utc).count() / slot.count();
  }
  SortedStarts out;
  out.order.resize(n);
  std::iota(out.order.begin(), out.order.end(), 0u);
  std::stable_sort(out.order.begin(), out.order.end(),
                   [&](uint32_t a, uint32_t b) { return by_index[a] < by_index[b]; });
  out.slot.resize(n);
  for (size_t i = 0; i < n; ++i) out.slot[i] = by_index[out.order[i]];
  return out;
}

/// Both algorithms for `start_slot` (ascending) and every window: results (when not empty,
/// start-major) and per-window totals. `states` holds one pass per window, already reset for
/// this job and zone (or continuing one).
void compute_starts(const FlatSweepIndex& index, const JobShape& shape,
                    std::span<const int64_t> start_slot, std::span<FlatSweepWindow> states,
                    std::span<SweepResult> results, std::span<SweepWindowTotals> totals) {
  const SlottedIntensity& in = index.intensity();
  const size_t n = in.size();
  const size_t windows = shape.window_slots.size();
  const double grams_per_ug = shape.energy_kwh_per_slot / kMicrogramsPerGram;
  const bool rows = !results.empty();
  for (size_t w = 0; w < windows; ++w) {
    const size_t span = shape.job_slots + shape.window_slots[w];
    FlatSweepWindow& state = states[w];
    SweepWindowTotals& total = totals[w];
    total = SweepWindowTotals{};
    for (size_t i = 0; i < start_slot.size(); ++i) {
      SweepResult r;
      const int64_t s = start_slot[i];
      if (s < 0 || static_cast<size_t>(s) + span > n) {
        r.status = StartStatus::kOutsideData;
        ++total.outside;
      } else if (!in.window_covered(static_cast<size_t>(s), static_cast<size_t>(s) + span)) {
        r.status = StartStatus::kGap;
        ++total.gap;
      } else {
        FlatStartResult f = state.at(static_cast<size_t>(s));
        r.baseline_ug = f.baseline_ug;
        r.fs_ug = f.fs_ug;
        r.pr_ug = f.pr_ug;
        r.fs_offset = f.fs_offset;
        r.pr_pauses = f.pr_pauses;
        const double base_g = static_cast<double>(f.baseline_ug) * grams_per_ug;
        ++total.ok;
        total.fs_reduction_pct +=
            reduction_pct(base_g, static_cast<double>(f.fs_ug) * grams_per_ug);
        total.pr_reduction_pct +=
            reduction_pct(base_g, static_cast<double>(f.pr_ug) * grams_per_ug);
        total.pr_pauses += f.pr_pauses;
      }
      if (rows) results[i * windows + w] = r;
    }
  }
}

Status check_inputs(const std::vector<SweepJob>& jobs, const std::vector<SweepZone>& zones,
                    const SweepOptions& options) {
  if (options.slot <= Nanos(0)) return make_error("the slot length must be positive");
  for (const SweepJob& j : jobs) {
    if (!(j.duration_h > 0)) return make_error("job '{}': the duration must be positive", j.name);
  }
  for (const SweepZone& z : zones) {
    if (z.intensity.size() >= static_cast<size_t>(INT32_MAX)) {
      return make_error("zone {}: {} slots, the sweep handles fewer than 2^31", z.intensity.zone,
                        z.intensity.size());
    }
    if (z.intensity.slot != options.slot) {
      return make_error("zone {}: the series has slots of {} but the sweep uses {}",
                        z.intensity.zone, format_duration(z.intensity.slot),
                        format_duration(options.slot));
    }
    if (z.starts.size() >= static_cast<size_t>(UINT32_MAX)) {
      return make_error("zone {}: too many requested starts", z.intensity.zone);
    }
  }
  return Status::ok_status();
}

/// A zone's shared state while its blocks are computed: built by the first thread that needs
/// it, released after its last block is computed.
struct ZoneWork {
  std::once_flag built;
  std::unique_ptr<FlatSweepIndex> index;
  SortedStarts starts;
  std::atomic<size_t> units_left{0};
};

struct Unit {
  uint32_t zone, job, block;
  bool last_in_cell;
};

/// A block in flight: owns what its SweepBlock points to.
struct BlockBuffer {
  SweepBlock block;
  std::vector<uint32_t> start_index;
  std::vector<int64_t> start_slot;
  std::vector<SweepResult> results;
  std::vector<SweepWindowTotals> totals;
  std::string text;
  bool ready = false;
};

}  // namespace

Status run_sweep_blocks(const std::vector<SweepJob>& jobs, const std::vector<SweepZone>& zones,
                        const std::vector<ShiftWindow>& windows, const SweepOptions& options,
                        SweepSink& sink) {
  if (Status s = check_inputs(jobs, zones, options); !s) return s;
  const Nanos slot = options.slot;
  const bool rows = sink.wants_rows();
  // Blocks bound the rows in memory; without rows a whole cell is one block, so that one thread
  // slides through all its starts without rebuilding its state.
  const size_t block_starts = rows ? std::max<size_t>(1, options.block_starts) : SIZE_MAX / 2;
  std::vector<JobShape> shapes;
  shapes.reserve(jobs.size());
  for (const SweepJob& j : jobs) shapes.push_back(job_shape(j, windows, slot));

  // Every (zone, job) cell has at least one block, so every cell is seen, even without starts.
  std::vector<size_t> blocks_per_zone(zones.size());
  for (size_t z = 0; z < zones.size(); ++z) {
    blocks_per_zone[z] =
        std::max<size_t>(1, (zones[z].starts.size() + block_starts - 1) / block_starts);
  }
  std::vector<Unit> units;
  auto add_cell = [&](size_t z, size_t j) {
    for (size_t b = 0; b < blocks_per_zone[z]; ++b) {
      units.push_back({static_cast<uint32_t>(z), static_cast<uint32_t>(j), static_cast<uint32_t>(b),
                       b + 1 == blocks_per_zone[z]});
    }
  };
  if (options.order == SweepOrder::kZoneMajor) {
    for (size_t z = 0; z < zones.size(); ++z)
      for (size_t j = 0; j < jobs.size(); ++j) add_cell(z, j);
  } else {
    for (size_t j = 0; j < jobs.size(); ++j)
      for (size_t z = 0; z < zones.size(); ++z) add_cell(z, j);
  }
  std::vector<ZoneWork> work(zones.size());
  for (size_t z = 0; z < zones.size(); ++z) work[z].units_left = jobs.size() * blocks_per_zone[z];

  unsigned threads = options.threads ? options.threads : std::thread::hardware_concurrency();
  threads = std::clamp<unsigned>(
      threads, 1, static_cast<unsigned>(std::max<size_t>(1, std::min<size_t>(units.size(), 256))));
  const size_t ring = 2 * static_cast<size_t>(threads);
  std::vector<BlockBuffer> buffers(ring);

  std::mutex mutex;
  std::condition_variable changed;
  size_t next_unit = 0, delivered = 0, cells_done = 0;
  bool delivering = false;
  std::optional<Error> failure;
  const size_t cells_total = jobs.size() * zones.size();

  auto compute = [&](const Unit& u, BlockBuffer& buf, std::vector<FlatSweepWindow>& states,
                     int64_t& state_cell) {
    ZoneWork& zw = work[u.zone];
    std::call_once(zw.built, [&] {
      zw.index = std::make_unique<FlatSweepIndex>(zones[u.zone].intensity);
      zw.starts = sort_starts(zones[u.zone], slot);
    });
    const JobShape& shape = shapes[u.job];
    const int64_t cell = static_cast<int64_t>(u.zone) * static_cast<int64_t>(jobs.size()) + u.job;
    if (state_cell != cell) {  // a new pass; a later block of the same cell continues it
      for (size_t w = 0; w < windows.size(); ++w) {
        states[w].reset(*zw.index, shape.job_slots, shape.window_slots[w]);
      }
      state_cell = cell;
    }
    const size_t n_starts = zw.starts.order.size();
    const size_t first = std::min(n_starts, static_cast<size_t>(u.block) * block_starts);
    const size_t last = std::min(n_starts, first + block_starts);
    buf.start_index.assign(zw.starts.order.begin() + static_cast<std::ptrdiff_t>(first),
                           zw.starts.order.begin() + static_cast<std::ptrdiff_t>(last));
    buf.start_slot.assign(zw.starts.slot.begin() + static_cast<std::ptrdiff_t>(first),
                          zw.starts.slot.begin() + static_cast<std::ptrdiff_t>(last));
    buf.results.resize(rows ? (last - first) * windows.size() : 0);
    buf.totals.resize(windows.size());
    compute_starts(*zw.index, shape, buf.start_slot, states, buf.results, buf.totals);
    SweepBlock& b = buf.block;
    b.zone = u.zone;
    b.job = u.job;
    b.job_slots = shape.job_slots;
    b.job_hours = shape.job_hours;
    b.energy_kwh_per_slot = shape.energy_kwh_per_slot;
    b.block_in_cell = u.block;
    b.last_in_cell = u.last_in_cell;
    b.first_slot_utc = zones[u.zone].intensity.first_slot_utc;
    b.slot = slot;
    b.window_slots = shape.window_slots;
    b.start_index = buf.start_index;
    b.start_slot = buf.start_slot;
    b.results = buf.results;
    b.totals = buf.totals;
    if (zw.units_left.fetch_sub(1) == 1) {  // the zone's last block: free its index
      zw.index.reset();
      zw.starts = SortedStarts{};
      state_cell = -1;
    }
  };

  auto worker = [&] {
    std::vector<FlatSweepWindow> states(windows.size());
    int64_t state_cell = -1;
    while (true) {
      size_t u = 0;
      {
        std::unique_lock lock(mutex);
        changed.wait(lock, [&] {
          return failure || next_unit >= units.size() || next_unit < delivered + ring;
        });
        if (failure || next_unit >= units.size()) return;
        u = next_unit++;
      }
      BlockBuffer& buf = buffers[u % ring];
      compute(units[u], buf, states, state_cell);
      buf.text.clear();
      sink.render(buf.block, buf.text);
      std::unique_lock lock(mutex);
      buf.ready = true;
      if (delivering) continue;
      // Hand over every block that is next in order; other threads keep computing meanwhile.
      delivering = true;
      while (!failure && delivered < units.size() && buffers[delivered % ring].ready) {
        BlockBuffer& next = buffers[delivered % ring];
        lock.unlock();
        Status status = sink.consume(next.block, next.text);
        if (status && next.block.last_in_cell && options.progress) {
          options.progress(++cells_done, cells_total);
        }
        lock.lock();
        if (!status) failure = status.error();
        next.ready = false;
        ++delivered;
        changed.notify_all();
      }
      delivering = false;
    }
  };
  std::vector<std::thread> pool;
  for (unsigned i = 1; i < threads; ++i) pool.emplace_back(worker);
  worker();
  for (std::thread& t : pool) t.join();
  if (failure) return *failure;
  return Status::ok_status();
}

namespace {

/// Gathers blocks into whole cells for run_sweep.
class CellSink : public SweepSink {
 public:
  CellSink(const std::vector<SweepZone>& zones, const std::function<void(SweepCell&&)>& on_cell)
      : zones_(zones), on_cell_(on_cell) {}

  Status consume(const SweepBlock& block, std::string_view) override {
    const size_t n_starts = zones_[block.zone].starts.size();
    if (block.block_in_cell == 0) {
      cell_ = SweepCell{};
      cell_.job = block.job;
      cell_.zone = block.zone;
      cell_.job_slots = block.job_slots;
      cell_.job_hours = block.job_hours;
      cell_.energy_kwh_per_slot = block.energy_kwh_per_slot;
      cell_.windows.resize(block.windows());
      for (size_t w = 0; w < block.windows(); ++w) {
        SweepCell::Window& win = cell_.windows[w];
        win.window_slots = block.window_slots[w];
        win.status.assign(n_starts, StartStatus::kOk);
        win.baseline_g.assign(n_starts, 0);
        win.fs_g.assign(n_starts, 0);
        win.pr_g.assign(n_starts, 0);
        win.fs_offset.assign(n_starts, 0);
        win.pr_pauses.assign(n_starts, 0);
      }
    }
    for (size_t i = 0; i < block.starts(); ++i) {
      const size_t q = block.start_index[i];
      for (size_t w = 0; w < block.windows(); ++w) {
        const SweepResult& r = block.result(i, w);
        SweepCell::Window& win = cell_.windows[w];
        win.status[q] = r.status;
        if (r.status != StartStatus::kOk) continue;
        win.baseline_g[q] = block.grams(r.baseline_ug);
        win.fs_g[q] = block.grams(r.fs_ug);
        win.pr_g[q] = block.grams(r.pr_ug);
        win.fs_offset[q] = r.fs_offset;
        win.pr_pauses[q] = r.pr_pauses;
      }
    }
    if (block.last_in_cell) on_cell_(std::move(cell_));
    return Status::ok_status();
  }

 private:
  const std::vector<SweepZone>& zones_;
  const std::function<void(SweepCell&&)>& on_cell_;
  SweepCell cell_;
};

}  // namespace

Status run_sweep(const std::vector<SweepJob>& jobs, const std::vector<SweepZone>& zones,
                 const std::vector<ShiftWindow>& windows, const SweepOptions& options,
                 const std::function<void(SweepCell&&)>& on_cell) {
  CellSink sink(zones, on_cell);
  SweepOptions cells = options;
  cells.order = SweepOrder::kZoneMajor;
  return run_sweep_blocks(jobs, zones, windows, cells, sink);
}

SweepCell sweep_cell(const SweepJob& job, const SweepZone& zone, const FlatSweepIndex& index,
                     const std::vector<ShiftWindow>& windows, Nanos slot,
                     FlatSweepWorkspace& workspace) {
  const JobShape shape = job_shape(job, windows, slot);
  const SortedStarts starts = sort_starts(zone, slot);
  const size_t n_starts = starts.order.size();
  std::vector<FlatSweepWindow>& states = workspace.windows;
  states.resize(windows.size());
  for (size_t w = 0; w < windows.size(); ++w) {
    states[w].reset(index, shape.job_slots, shape.window_slots[w]);
  }
  std::vector<SweepResult> results(n_starts * windows.size());
  std::vector<SweepWindowTotals> totals(windows.size());
  compute_starts(index, shape, starts.slot, states, results, totals);
  SweepCell cell;
  cell.job_slots = shape.job_slots;
  cell.job_hours = shape.job_hours;
  cell.energy_kwh_per_slot = shape.energy_kwh_per_slot;
  const double grams_per_ug = shape.energy_kwh_per_slot / kMicrogramsPerGram;
  for (size_t w = 0; w < windows.size(); ++w) {
    SweepCell::Window out;
    out.window_slots = shape.window_slots[w];
    out.status.assign(n_starts, StartStatus::kOk);
    out.baseline_g.assign(n_starts, 0);
    out.fs_g.assign(n_starts, 0);
    out.pr_g.assign(n_starts, 0);
    out.fs_offset.assign(n_starts, 0);
    out.pr_pauses.assign(n_starts, 0);
    for (size_t i = 0; i < n_starts; ++i) {
      const size_t q = starts.order[i];
      const SweepResult& r = results[i * windows.size() + w];
      out.status[q] = r.status;
      if (r.status != StartStatus::kOk) continue;
      out.baseline_g[q] = static_cast<double>(r.baseline_ug) * grams_per_ug;
      out.fs_g[q] = static_cast<double>(r.fs_ug) * grams_per_ug;
      out.pr_g[q] = static_cast<double>(r.pr_ug) * grams_per_ug;
      out.fs_offset[q] = r.fs_offset;
      out.pr_pauses[q] = r.pr_pauses;
    }
    cell.windows.push_back(std::move(out));
  }
  return cell;
}

}  // namespace carbonclock
