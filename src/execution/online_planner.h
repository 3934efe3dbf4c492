// The online planner: at every slot boundary, re-plan the work still to do between now and the
// deadline over the latest intensity (a SlottedIntensity from the intensity provider's planning
// chain, every slot covered). Pause and Resume with a flat profile: the cheapest slots,
// earliest on ties (the offline optimum of shifting/plan.h restricted to what is left); Flexible
// Start: the cheapest contiguous block. The first slot may be partial (we are inside it) and so
// may the last (the deadline may fall inside it): slots carry capacities in seconds.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/time.h"
#include "shifting/plan.h"
#include "shifting/slots.h"

namespace carbonclock {

/// One slot of the remaining window: [start, start + capacity) at a given intensity.
struct WindowSlot {
  SysTime start_utc;
  double capacity_s = 0;
  double g_per_kwh = 0;
};

/// The window from `now` to `deadline` cut at the slot grid of `intensity` (first and last slot
/// possibly partial). Slots outside the intensity's range take the nearest value (callers make
/// the intensity cover the window).
std::vector<WindowSlot> remaining_window(const SlottedIntensity& intensity, SysTime now,
                                         SysTime deadline);

/// Pause and Resume: indices of the cheapest slots whose capacities cover `needed_s` (short of
/// it by at most `tolerance_s`), earliest on ties, ascending. All slots when they cannot cover it.
std::vector<size_t> cheapest_slots(std::span<const WindowSlot> window, double needed_s,
                                   double tolerance_s = 1e-9);

/// Flexible Start: index of the slot to start in so that running straight from its start
/// emits least over `needed_s` (ties: earliest), among starts whose run ends by the window's
/// end; 0 when none does.
size_t cheapest_block(std::span<const WindowSlot> window, double needed_s);

/// Intensity-seconds (g/kWh × s) of running `needed_s` in `chosen` slots (each filled up in
/// order, the last partly); proportional to emissions at constant power.
double intensity_seconds(std::span<const WindowSlot> window, std::span<const size_t> chosen,
                         double needed_s);

/// intensity_seconds of running `needed_s` straight from the window's first slot.
double straight_intensity_seconds(std::span<const WindowSlot> window, double needed_s);

/// What to do now.
struct Decision {
  bool run_now = false;
  /// The job must run to the end from now on (no slack left, or it overran its expected
  /// duration, or Flexible Start has started).
  bool straight_through = false;
  SysTime next_decision_utc;  ///< re-plan then (next slot boundary, or when slack runs out)
  std::vector<WindowSlot> window;
  std::vector<size_t> chosen;  ///< planned slots of `window`
  double planned_is = 0;       ///< intensity_seconds of the plan
  double immediate_is = 0;     ///< intensity_seconds of running straight from now
  std::string reason;          ///< for the schedule's events
};

/// Decides for `algorithm` with `remaining_s` of work left (<= 0: unknown, the job overran).
/// `started` matters only for Flexible Start (once started it runs through). The window is
/// remaining_window(intensity, now, deadline); the rest is decide_in_window().
Decision decide(Algorithm algorithm, const SlottedIntensity& intensity, SysTime now,
                SysTime deadline, double remaining_s, bool started);

/// decide() on a window already cut (remaining_window over `slot`-long slots from `now` to
/// `deadline`); the Decision's `window` is left empty, `chosen` indexes `window`. For callers
/// that decide many times over one cut: the back-test cuts a start's window once, to its
/// longest deadline, and decides each shorter deadline on a prefix of it (a deadline on a slot
/// boundary cuts the same slots).
Decision decide_in_window(Algorithm algorithm, std::span<const WindowSlot> window, Nanos slot,
                          SysTime now, SysTime deadline, double remaining_s, bool started);

}  // namespace carbonclock
