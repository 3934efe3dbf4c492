#include "shifting/sweep.h"

#include <date/date.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <memory>
#include <mutex>
#include <numeric>
#include <thread>

#include "shifting/flat_sweep.h"

namespace carbonclock {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

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

SweepCell sweep_cell(const SweepJob& job, const SweepZone& zone, const FlatSweepIndex& index,
                     const std::vector<ShiftWindow>& windows, Nanos slot,
                     FlatSweepWorkspace& workspace) {
  const SlottedIntensity& in = zone.intensity;
  SweepCell cell;
  cell.job_slots = job_slots(from_seconds(job.duration_h * 3600.0), slot);
  cell.job_hours = static_cast<double>(cell.job_slots) * to_seconds(slot) / 3600.0;
  cell.energy_kwh_per_slot = job.energy_kwh / static_cast<double>(cell.job_slots);
  const size_t n_starts = zone.starts.size();
  // Requested start slots (floored), or -1 before the data.
  std::vector<int64_t> start_slot(n_starts, -1);
  for (size_t q = 0; q < n_starts; ++q) {
    SysTime t = floor_to(zone.starts[q], slot);
    if (t >= in.first_slot_utc) start_slot[q] = (t - in.first_slot_utc).count() / slot.count();
  }
  std::vector<size_t> order(n_starts);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return start_slot[a] < start_slot[b]; });
  const double grams_per_ug = cell.energy_kwh_per_slot / kMicrogramsPerGram;
  for (const ShiftWindow& w : windows) {
    SweepCell::Window out;
    out.window_slots = window_slots(w, cell.job_slots, slot);
    const size_t span = cell.job_slots + out.window_slots;
    out.status.assign(n_starts, StartStatus::kOk);
    out.baseline_g.assign(n_starts, 0);
    out.fs_g.assign(n_starts, 0);
    out.pr_g.assign(n_starts, 0);
    out.fs_offset.assign(n_starts, 0);
    out.pr_pauses.assign(n_starts, 0);
    std::vector<size_t> valid_slots, valid_rows;
    for (size_t q : order) {
      int64_t s = start_slot[q];
      if (s < 0 || static_cast<size_t>(s) + span > in.size()) {
        out.status[q] = StartStatus::kOutsideData;
      } else if (!in.window_covered(static_cast<size_t>(s), static_cast<size_t>(s) + span)) {
        out.status[q] = StartStatus::kGap;
      } else {
        valid_slots.push_back(static_cast<size_t>(s));
        valid_rows.push_back(q);
      }
    }
    auto results = sweep_flat(index, cell.job_slots, out.window_slots, valid_slots, workspace);
    for (size_t v = 0; v < valid_rows.size(); ++v) {
      size_t q = valid_rows[v];
      const FlatStartResult& r = results[v];
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

Status run_sweep(const std::vector<SweepJob>& jobs, const std::vector<SweepZone>& zones,
                 const std::vector<ShiftWindow>& windows, const SweepOptions& options,
                 const std::function<void(SweepCell&&)>& on_cell) {
  if (options.slot <= Nanos(0)) return make_error("the slot length must be positive");
  for (const SweepJob& j : jobs) {
    if (!(j.duration_h > 0)) return make_error("job '{}': the duration must be positive", j.name);
  }
  // Per-zone indexes are built once, in parallel, then shared read-only.
  std::vector<std::unique_ptr<FlatSweepIndex>> indexes(zones.size());
  const size_t tasks = jobs.size() * zones.size();
  unsigned threads = options.threads ? options.threads : std::thread::hardware_concurrency();
  threads = std::max(1u, std::min<unsigned>(threads, static_cast<unsigned>(std::max<size_t>(
                                                         1, std::max(tasks, zones.size())))));
  std::mutex mutex;
  std::atomic<size_t> next_zone{0};
  auto build = [&] {
    for (size_t z = next_zone++; z < zones.size(); z = next_zone++) {
      indexes[z] = std::make_unique<FlatSweepIndex>(zones[z].intensity);
    }
  };
  std::atomic<size_t> next_task{0};
  size_t done = 0;
  // Tasks run zone-major so that threads share a zone's index while it is hot in cache.
  auto work = [&] {
    FlatSweepWorkspace workspace;
    for (size_t t = next_task++; t < tasks; t = next_task++) {
      size_t z = t / jobs.size(), j = t % jobs.size();
      SweepCell cell = sweep_cell(jobs[j], zones[z], *indexes[z], windows, options.slot, workspace);
      cell.job = j;
      cell.zone = z;
      std::lock_guard lock(mutex);
      on_cell(std::move(cell));
      ++done;
      if (options.progress) options.progress(done, tasks);
    }
  };
  auto run_all = [&](auto& fn) {
    std::vector<std::thread> pool;
    for (unsigned i = 1; i < threads; ++i) pool.emplace_back(fn);
    fn();
    for (std::thread& th : pool) th.join();
  };
  run_all(build);
  run_all(work);
  return Status::ok_status();
}

}  // namespace carbonclock
