// Slots, slotted intensity and job profiles: the common ground of both shifting algorithms.
// Time is cut into UTC-aligned slots (default 5 minutes). Intensities are held per slot in
// integer micrograms per kWh so that window sums, and therefore ties, are exact (see
// docs/shifting.md).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "common/time.h"
#include "grid/provenance.h"
#include "grid/series.h"
#include "metering/energy_timeline.h"

namespace carbonclock {

inline constexpr Nanos kDefaultSlot = std::chrono::minutes(5);
/// Micrograms per gram: slot intensities are stored as µg/kWh.
inline constexpr double kMicrogramsPerGram = 1e6;

/// One zone's intensity cut into consecutive UTC-aligned slots: the one slotted type that
/// shifting, sweeps, planning and execution share. A slot is covered when the series' points
/// cover all of it; its value is then the time-weighted mean of the points over the slot (exact
/// for energy spread evenly inside the slot), rounded to 1 µg/kWh. Uncovered slots hold 0 and
/// must never be priced: callers check window_covered first. Each slot says where its value
/// comes from (`provenance`); zone, signal, factor and source describe the first provenance
/// (the one asked for).
struct SlottedIntensity {
  std::string zone;
  Signal signal = Signal::kAverage;
  Factor factor = Factor::kLifecycle;
  std::string source;
  SysTime first_slot_utc;
  Nanos slot = kDefaultSlot;
  std::vector<int64_t> ug_per_kwh;        ///< per slot; 0 where uncovered
  std::vector<uint8_t> covered;           ///< per slot: 1 when fully covered
  std::vector<uint8_t> estimated;         ///< per slot: 1 when any point over it is estimated
  std::vector<int32_t> uncovered_prefix;  ///< size()+1 prefix counts of uncovered slots
  /// Per slot: index into `provenances`. Empty when every slot has provenances[0] (or, with no
  /// provenances either, the series described by zone/signal/factor/source).
  std::vector<uint8_t> provenance;
  std::vector<Provenance> provenances;
  std::vector<std::string> notes;  ///< e.g. "beyond the forecast horizon (...) the plan uses ..."

  size_t size() const { return ug_per_kwh.size(); }
  SysTime slot_start(size_t i) const { return first_slot_utc + slot * static_cast<int64_t>(i); }
  SysTime end_utc() const { return slot_start(size()); }
  double g_per_kwh(size_t i) const {
    return static_cast<double>(ug_per_kwh[i]) / kMicrogramsPerGram;
  }
  /// Index of the slot starting exactly at `t`; nullopt when `t` is not slot-aligned or lies
  /// outside [first_slot_utc, end_utc()).
  std::optional<size_t> index_of(SysTime t) const;
  /// True when every slot of [begin, end) exists and is covered.
  bool window_covered(size_t begin, size_t end) const;
  /// Rebuilds the prefix count used by window_covered; call after editing `covered` by hand.
  void index_coverage();
  /// The value of the slot holding `t` in g/kWh; nullopt outside or uncovered.
  std::optional<double> at(SysTime t) const;
  /// Where slot i's value comes from (kUnpriced for an uncovered slot).
  Provenance provenance_of(size_t i) const;
  /// The provenances of the covered slots of [begin, end), each once, in order of appearance.
  std::vector<Provenance> used_provenances(size_t begin, size_t end) const;
  /// One line: "DE average/lifecycle: forecast from 10:00Z (watttime-api, issued …), then
  /// embedded-profile from 22:00Z".
  std::string describe() const;
};

/// Builds a series with one point per value: slot i = [first + i·slot, +slot), value in g/kWh;
/// NaN makes a gap. For tests and benchmarks.
IntensitySeries series_from_values(std::string zone, SysTime first, Nanos slot,
                                   const std::vector<double>& g_per_kwh);

/// Cuts `series` into slots from floor_to(first point start, slot) to the slot containing the
/// last point's end. Error for an empty series or a non-positive slot.
Result<SlottedIntensity> slot_series(const IntensitySeries& series, Nanos slot);

/// Energy per job slot. Job slots are job-relative: slot k is [start + k·slot, +slot).
struct JobProfile {
  std::string name;
  Nanos slot = kDefaultSlot;
  std::vector<double> energy_kwh;  ///< per job slot; size() >= 1
  bool flat = false;               ///< every slot holds the same energy
  /// The energy the profile was built from (flat: as given; measured: the timeline's total),
  /// so the total is reported as given rather than as a sum of rounded slot shares.
  std::optional<double> source_total_kwh;

  size_t slots() const { return energy_kwh.size(); }
  /// source_total_kwh when known, else the sum of the slots (compensated, Neumaier).
  double total_kwh() const;
  double hours() const { return to_seconds(slot) * static_cast<double>(slots()) / 3600.0; }
};

/// The job duration in slots: `duration` rounded to the nearest whole slot (halves up), at
/// least one.
size_t job_slots(Nanos duration, Nanos slot);

/// A flat profile: `energy_kwh` spread evenly over job_slots(duration, slot) slots. Error for a
/// non-positive duration or slot, or a negative or non-finite energy.
Result<JobProfile> flat_profile(std::string name, Nanos duration, double energy_kwh, Nanos slot);

/// A measured profile from a run's timeline (all devices summed), re-binned to job-relative
/// slots starting at `run_start`: each bucket's energy is spread evenly over the part of the
/// bucket inside [run_start, run_end) and split across slots in proportion to time. The job has
/// job_slots(run_end − run_start) slots; energy past the last slot is added to the last one.
/// Error when the timeline has no buckets, no energy, or run_end <= run_start.
Result<JobProfile> measured_profile(std::string name, const EnergyTimeline& timeline,
                                    SysTime run_start, SysTime run_end, Nanos slot);

/// A shifting window N: absolute ("6h", any parse_duration text) or relative to the job's
/// duration ("25%").
struct ShiftWindow {
  std::string label;              ///< as given: "6h", "25%"
  std::optional<Nanos> absolute;  ///< set for absolute windows
  double percent = 0;             ///< relative windows: percent of the job's duration
};

/// Parses "6h", "1h30m", "25%", "100%". Error for negative or unparsable text.
Result<ShiftWindow> parse_window(std::string_view text);

/// Parses a comma-separated list of windows.
Result<std::vector<ShiftWindow>> parse_windows(std::string_view text);

/// N in slots: absolute → round(N / slot); relative → round(percent / 100 × job slots) (the
/// rounded job duration). Halves round up.
size_t window_slots(const ShiftWindow& window, size_t job_slot_count, Nanos slot);

}  // namespace carbonclock
