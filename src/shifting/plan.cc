#include "shifting/plan.h"

#include <algorithm>
#include <limits>
#include <numeric>

namespace carbonclock {
namespace {

constexpr size_t kMaxDpCells = 60'000'000;

Plan base_plan(Algorithm algorithm, const JobProfile& job, const SlottedIntensity& intensity,
               size_t start, size_t window_slots) {
  Plan p;
  p.algorithm = algorithm;
  p.start_slot = start;
  p.window_slots = window_slots;
  std::vector<size_t> baseline(job.slots());
  std::iota(baseline.begin(), baseline.end(), start);
  p.baseline_g = emissions_g(job, intensity, baseline);
  return p;
}

void finish(Plan& p, const JobProfile& job, const SlottedIntensity& intensity) {
  p.shifted_g = emissions_g(job, intensity, p.slots);
  p.pauses = count_pauses(p.slots);
}

}  // namespace

const char* to_string(Algorithm a) {
  return a == Algorithm::kFlexibleStart ? "flexible-start" : "pause-resume";
}

double reduction_pct(double baseline_g, double shifted_g) {
  if (baseline_g == 0) return 0;
  return 100.0 * (baseline_g - shifted_g) / baseline_g;
}

double Plan::reduction_pct() const { return carbonclock::reduction_pct(baseline_g, shifted_g); }

Status check_window(const SlottedIntensity& intensity, size_t start, size_t slot_count) {
  if (start >= intensity.size() || slot_count > intensity.size() - start) {
    return make_error(
        "zone {}: the window {} to {} is outside the data ({} to {})", intensity.zone,
        format_utc(intensity.slot_start(start)),
        format_utc(intensity.slot_start(start) + intensity.slot * static_cast<int64_t>(slot_count)),
        format_utc(intensity.first_slot_utc), format_utc(intensity.end_utc()));
  }
  if (!intensity.window_covered(start, start + slot_count)) {
    size_t i = start;
    while (intensity.covered[i]) ++i;
    return make_error("zone {}: the window {} to {} has a gap in the data at {}", intensity.zone,
                      format_utc(intensity.slot_start(start)),
                      format_utc(intensity.slot_start(start + slot_count)),
                      format_utc(intensity.slot_start(i)));
  }
  return Status::ok_status();
}

double emissions_g(const JobProfile& job, const SlottedIntensity& intensity,
                   std::span<const size_t> slots) {
  if (job.flat) {
    int64_t sum_ug = 0;
    for (size_t s : slots) sum_ug += intensity.ug_per_kwh[s];
    return job.energy_kwh.front() * static_cast<double>(sum_ug) / kMicrogramsPerGram;
  }
  double sum = 0;
  for (size_t k = 0; k < slots.size(); ++k) {
    sum += job.energy_kwh[k] * static_cast<double>(intensity.ug_per_kwh[slots[k]]);
  }
  return sum / kMicrogramsPerGram;
}

size_t count_pauses(std::span<const size_t> slots) {
  size_t pauses = 0;
  for (size_t k = 1; k < slots.size(); ++k) {
    if (slots[k] != slots[k - 1] + 1) ++pauses;
  }
  return pauses;
}

Result<Plan> flexible_start(const JobProfile& job, const SlottedIntensity& intensity, size_t start,
                            size_t window_slots) {
  const size_t k_slots = job.slots();
  if (Status s = check_window(intensity, start, k_slots + window_slots); !s) return s.error();
  Plan p = base_plan(Algorithm::kFlexibleStart, job, intensity, start, window_slots);
  const std::vector<int64_t>& ug = intensity.ug_per_kwh;
  size_t best = 0;
  if (job.flat) {
    int64_t sum = 0;
    for (size_t k = 0; k < k_slots; ++k) sum += ug[start + k];
    int64_t best_sum = sum;
    for (size_t o = 1; o <= window_slots; ++o) {
      sum += ug[start + o + k_slots - 1] - ug[start + o - 1];
      if (sum < best_sum) {
        best_sum = sum;
        best = o;
      }
    }
  } else {
    double best_sum = std::numeric_limits<double>::infinity();
    for (size_t o = 0; o <= window_slots; ++o) {
      double sum = 0;
      for (size_t k = 0; k < k_slots; ++k) {
        sum += job.energy_kwh[k] * static_cast<double>(ug[start + o + k]);
      }
      if (sum < best_sum) {
        best_sum = sum;
        best = o;
      }
    }
  }
  p.slots.resize(k_slots);
  std::iota(p.slots.begin(), p.slots.end(), start + best);
  finish(p, job, intensity);
  return p;
}

Result<Plan> pause_resume(const JobProfile& job, const SlottedIntensity& intensity, size_t start,
                          size_t window_slots) {
  const size_t k_slots = job.slots();
  const size_t n = window_slots;
  if (Status s = check_window(intensity, start, k_slots + n); !s) return s.error();
  Plan p = base_plan(Algorithm::kPauseResume, job, intensity, start, window_slots);
  const std::vector<int64_t>& ug = intensity.ug_per_kwh;
  if (job.flat) {
    std::vector<size_t> order(k_slots + n);
    std::iota(order.begin(), order.end(), start);
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return ug[a] < ug[b]; });
    p.slots.assign(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(k_slots));
    std::sort(p.slots.begin(), p.slots.end());
    finish(p, job, intensity);
    return p;
  }
  const size_t width = n + 1;
  if (k_slots * width > kMaxDpCells) {
    return make_error(
        "job {}: {} job slots × {} window positions is too large for the exact pause-and-resume "
        "optimum; use a longer --slot",
        job.name, k_slots, width);
  }
  // f[k][j]: least emissions (µg·kWh/kWh units, i.e. e × µg/kWh) of job slots k.. when job slot
  // k may use window slot k + j' for j' >= j. f[K][*] = 0.
  std::vector<double> f((k_slots + 1) * width, 0.0);
  auto at = [&](size_t k, size_t j) -> double& { return f[k * width + j]; };
  for (size_t k = k_slots; k-- > 0;) {
    for (size_t j = width; j-- > 0;) {
      double take = job.energy_kwh[k] * static_cast<double>(ug[start + k + j]) + at(k + 1, j);
      at(k, j) = (j + 1 < width) ? std::min(take, at(k, j + 1)) : take;
    }
  }
  // Forward: take the earliest slot that attains the optimum (lexicographically earliest).
  p.slots.reserve(k_slots);
  size_t j = 0;
  for (size_t k = 0; k < k_slots; ++k) {
    while (true) {
      double take = job.energy_kwh[k] * static_cast<double>(ug[start + k + j]) + at(k + 1, j);
      if (take == at(k, j)) break;
      ++j;
    }
    p.slots.push_back(start + k + j);
  }
  finish(p, job, intensity);
  return p;
}

Result<Plan> make_plan(Algorithm algorithm, const JobProfile& job,
                       const SlottedIntensity& intensity, size_t start, size_t window_slots) {
  return algorithm == Algorithm::kFlexibleStart
             ? flexible_start(job, intensity, start, window_slots)
             : pause_resume(job, intensity, start, window_slots);
}

}  // namespace carbonclock
