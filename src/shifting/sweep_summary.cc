#include "shifting/sweep_summary.h"

#include <limits>

#include "shifting/plan.h"

namespace carbonclock {

SweepSummary::SweepSummary(size_t jobs, size_t zones, size_t windows)
    : zones_(zones), windows_(windows), acc_(jobs * zones * windows) {}

void SweepSummary::add(const SweepCell& cell) {
  for (size_t w = 0; w < cell.windows.size(); ++w) {
    const SweepCell::Window& win = cell.windows[w];
    Acc& a = acc_[(cell.job * zones_ + cell.zone) * windows_ + w];
    const double hours = cell.job_hours;
    for (size_t q = 0; q < win.status.size(); ++q) {
      switch (win.status[q]) {
        case StartStatus::kOutsideData:
          ++skipped_outside;
          continue;
        case StartStatus::kGap:
          ++skipped_gap;
          continue;
        case StartStatus::kOk:
          break;
      }
      ++rows_ok;
      a.fs += reduction_pct(win.baseline_g[q], win.fs_g[q]);
      a.pr += reduction_pct(win.baseline_g[q], win.pr_g[q]);
      a.pauses_per_h += static_cast<double>(win.pr_pauses[q]) / hours;
      ++a.n;
    }
  }
}

void SweepSummary::add(const SweepBlock& block) {
  for (size_t w = 0; w < block.totals.size(); ++w) {
    const SweepWindowTotals& t = block.totals[w];
    Acc& a = acc_[(block.job * zones_ + block.zone) * windows_ + w];
    skipped_outside += t.outside;
    skipped_gap += t.gap;
    rows_ok += t.ok;
    a.fs += t.fs_reduction_pct;
    a.pr += t.pr_reduction_pct;
    a.pauses_per_h += static_cast<double>(t.pr_pauses) / block.job_hours;
    a.n += t.ok;
  }
}

double SweepSummary::over_zones(size_t j, size_t w, double Acc::*field) const {
  double sum = 0;
  size_t zones = 0;
  for (size_t z = 0; z < zones_; ++z) {
    const Acc& a = acc(j, z, w);
    if (a.n == 0) continue;
    sum += a.*field / static_cast<double>(a.n);
    ++zones;
  }
  return zones ? sum / static_cast<double>(zones) : std::numeric_limits<double>::quiet_NaN();
}

double SweepSummary::fs_reduction_pct(size_t j, size_t w) const {
  return over_zones(j, w, &Acc::fs);
}
double SweepSummary::pr_reduction_pct(size_t j, size_t w) const {
  return over_zones(j, w, &Acc::pr);
}
double SweepSummary::pr_pauses_per_hour(size_t j, size_t w) const {
  return over_zones(j, w, &Acc::pauses_per_h);
}

double SweepSummary::zone_fs_reduction_pct(size_t j, size_t z, size_t w) const {
  const Acc& a = acc(j, z, w);
  return a.n ? a.fs / static_cast<double>(a.n) : std::numeric_limits<double>::quiet_NaN();
}
double SweepSummary::zone_pr_reduction_pct(size_t j, size_t z, size_t w) const {
  const Acc& a = acc(j, z, w);
  return a.n ? a.pr / static_cast<double>(a.n) : std::numeric_limits<double>::quiet_NaN();
}
double SweepSummary::zone_pr_pauses_per_hour(size_t j, size_t z, size_t w) const {
  const Acc& a = acc(j, z, w);
  return a.n ? a.pauses_per_h / static_cast<double>(a.n) : std::numeric_limits<double>::quiet_NaN();
}
size_t SweepSummary::zone_starts_used(size_t j, size_t z, size_t w) const { return acc(j, z, w).n; }

}  // namespace carbonclock
