// What a sweep's outputs need beyond the cells: the names of jobs, zones and windows, and the
// means the Markdown tables print, accumulated cell by cell.
#pragma once

#include <string>
#include <vector>

#include "shifting/sweep.h"

namespace carbonclock {

/// What the outputs need to name things.
struct SweepLabels {
  std::vector<std::string> jobs;
  std::vector<std::string> zones;
  std::vector<std::string> windows;               ///< as given: "6h", "25%"
  std::vector<std::vector<SysTime>> zone_starts;  ///< per zone, SweepZone::starts
  std::vector<std::string> zone_series;           ///< per zone: "DE average/lifecycle (source)"
  Nanos slot = kDefaultSlot;
};

/// Means for the Markdown tables, accumulated cell by cell.
class SweepSummary {
 public:
  SweepSummary(size_t jobs, size_t zones, size_t windows);
  void add(const SweepCell& cell);
  /// Adds a streamed block's per-window totals (the same means as add() of its cell).
  void add(const SweepBlock& block);

  /// Mean over zones (each zone's mean over its valid starts) for job j, window w; zones
  /// without a valid start are left out. NaN when no zone has one.
  double fs_reduction_pct(size_t j, size_t w) const;
  double pr_reduction_pct(size_t j, size_t w) const;
  double pr_pauses_per_hour(size_t j, size_t w) const;
  /// The same for one zone.
  double zone_fs_reduction_pct(size_t j, size_t z, size_t w) const;
  double zone_pr_reduction_pct(size_t j, size_t z, size_t w) const;
  double zone_pr_pauses_per_hour(size_t j, size_t z, size_t w) const;
  size_t zone_starts_used(size_t j, size_t z, size_t w) const;

  size_t rows_ok = 0;          ///< (job, zone, start, window) combinations computed
  size_t skipped_outside = 0;  ///< ... skipped: window outside the data
  size_t skipped_gap = 0;      ///< ... skipped: gap in the window

 private:
  struct Acc {
    double fs = 0, pr = 0, pauses_per_h = 0;
    size_t n = 0;
  };
  const Acc& acc(size_t j, size_t z, size_t w) const {
    return acc_[(j * zones_ + z) * windows_ + w];
  }
  double over_zones(size_t j, size_t w, double Acc::*field) const;
  size_t zones_, windows_;
  std::vector<Acc> acc_;
};

}  // namespace carbonclock
