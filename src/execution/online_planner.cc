#include "execution/online_planner.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>

namespace carbonclock {
namespace {

/// Slack below this many seconds counts as none.
constexpr double kEpsilonS = 1e-3;
/// Work left over whole slots below this share of a slot is a sliver (see decide()).
constexpr double kSliverShare = 0.02;

/// Intensity-seconds of running `needed_s` through slot(0), slot(1), … slot(count − 1) in
/// order, each filled up, the last partly. (A function of the position rather than a range:
/// clang 14's ranges with libstdc++ 12 do not compile a transform view.)
template <typename SlotAt>
double fill_intensity_seconds(size_t count, SlotAt slot, double needed_s) {
  double left = needed_s, total = 0;
  for (size_t k = 0; k < count && left > 0; ++k) {
    const WindowSlot& w = slot(k);
    double used = std::min(left, w.capacity_s);
    total += used * w.g_per_kwh;
    left -= used;
  }
  return total;
}

}  // namespace

std::vector<WindowSlot> remaining_window(const SlottedIntensity& intensity, SysTime now,
                                         SysTime deadline) {
  std::vector<WindowSlot> out;
  if (intensity.size() == 0 || now >= deadline) return out;
  const Nanos slot = intensity.slot;
  // A slot inside the range takes its value; outside it, or uncovered, the nearest end's value
  // (the first slot's before the range, else the last slot's).
  auto value = [&](SysTime t, int64_t i) {
    if (i >= 0 && static_cast<size_t>(i) < intensity.size() && t >= intensity.first_slot_utc &&
        intensity.covered[static_cast<size_t>(i)]) {
      return intensity.g_per_kwh(static_cast<size_t>(i));
    }
    return t < intensity.first_slot_utc ? intensity.g_per_kwh(0)
                                        : intensity.g_per_kwh(intensity.size() - 1);
  };
  auto index = [&](SysTime t) {
    Nanos offset = t - intensity.first_slot_utc;
    int64_t i = offset / slot;
    if (offset.count() < 0 && i * slot != offset) --i;  // floor, not truncation
    return i;
  };
  // The first slot may be partial (we are inside it); the others start on the slot grid, each
  // one slot later, so their index into the intensity grows by one (no division per slot).
  SysTime end = std::min(floor_to(now, slot) + slot, deadline);
  out.push_back({now, to_seconds(end - now), value(now, index(now))});
  if (end >= deadline) return out;
  const auto rest = static_cast<size_t>((deadline - end + slot - Nanos{1}) / slot);
  out.resize(1 + rest);
  int64_t i = index(end);
  SysTime t = end;
  for (size_t k = 1; k <= rest; ++k, t += slot, ++i) {
    SysTime e = std::min(t + slot, deadline);
    out[k] = {t, to_seconds(e - t), value(t, i)};
  }
  return out;
}

std::vector<size_t> cheapest_slots(std::span<const WindowSlot> window, double needed_s,
                                   double tolerance_s) {
  const size_t n = window.size();
  // Keys (intensity, index): cheapest first, earliest on ties. A total order, so a selection
  // and an unstable sort give exactly the order a stable sort by intensity gives, and only the
  // cheapest few need ordering: enough whole slots for the work plus the (at most two) partial
  // ones. The rest is sorted only if those do not cover the work after all.
  std::vector<std::pair<double, size_t>> keys(n);
  double slot_s = 0;
  for (size_t i = 0; i < n; ++i) {
    keys[i] = {window[i].g_per_kwh, i};
    slot_s = std::max(slot_s, window[i].capacity_s);
  }
  size_t sorted = n;
  if (slot_s > 0 && needed_s / slot_s + 3 < static_cast<double>(n)) {
    sorted = static_cast<size_t>(std::ceil(needed_s / slot_s)) + 2;
    std::nth_element(keys.begin(), keys.begin() + static_cast<std::ptrdiff_t>(sorted), keys.end());
  }
  std::sort(keys.begin(), keys.begin() + static_cast<std::ptrdiff_t>(sorted));
  std::vector<uint8_t> take(n, 0);
  size_t taken = 0;
  double have = 0;
  for (size_t j = 0; j < n; ++j) {
    // The tolerance forgives a sliver short of whole slots, never work with no slot at all.
    if (have >= needed_s - (taken == 0 ? 1e-9 : tolerance_s)) break;
    if (j == sorted) {
      std::sort(keys.begin() + static_cast<std::ptrdiff_t>(sorted), keys.end());
      sorted = n;
    }
    take[keys[j].second] = 1;
    ++taken;
    have += window[keys[j].second].capacity_s;
  }
  std::vector<size_t> chosen;
  chosen.reserve(taken);
  for (size_t i = 0; i < n; ++i) {
    if (take[i]) chosen.push_back(i);
  }
  return chosen;
}

size_t cheapest_block(std::span<const WindowSlot> window, double needed_s) {
  // Prefix sums of capacity and cost up to i and up to j, each accumulated on the fly in the
  // order a prefix array would be (the same numbers, without allocating two arrays per call:
  // the back-test decides a million times).
  const size_t n = window.size();
  double cap_i = 0, cost_i = 0, cap_j = 0, cost_j = 0;
  size_t best = 0;
  double best_cost = 0;
  bool found = false;
  size_t j = 0;  // the slot where the run from i ends (monotonic in i)
  for (size_t i = 0; i < n; ++i) {
    if (j < i) j = i, cap_j = cap_i, cost_j = cost_i;
    while (j < n && (cap_j + window[j].capacity_s) - cap_i < needed_s - 1e-9) {
      cap_j += window[j].capacity_s;
      cost_j += window[j].capacity_s * window[j].g_per_kwh;
      ++j;
    }
    if (j >= n) break;  // no later start fits either
    double c = cost_j - cost_i + window[j].g_per_kwh * (needed_s - (cap_j - cap_i));
    if (!found || c < best_cost - 1e-9) {
      best = i;
      best_cost = c;
      found = true;
    }
    cap_i += window[i].capacity_s;
    cost_i += window[i].capacity_s * window[i].g_per_kwh;
  }
  return best;
}

double intensity_seconds(std::span<const WindowSlot> window, std::span<const size_t> chosen,
                         double needed_s) {
  return fill_intensity_seconds(
      chosen.size(), [&](size_t k) -> const WindowSlot& { return window[chosen[k]]; }, needed_s);
}

double straight_intensity_seconds(std::span<const WindowSlot> window, double needed_s) {
  return fill_intensity_seconds(
      window.size(), [&](size_t k) -> const WindowSlot& { return window[k]; }, needed_s);
}

Decision decide(Algorithm algorithm, const SlottedIntensity& intensity, SysTime now,
                SysTime deadline, double remaining_s, bool started) {
  std::vector<WindowSlot> window = remaining_window(intensity, now, deadline);
  Decision d =
      decide_in_window(algorithm, window, intensity.slot, now, deadline, remaining_s, started);
  d.window = std::move(window);
  return d;
}

Decision decide_in_window(Algorithm algorithm, std::span<const WindowSlot> window, Nanos slot,
                          SysTime now, SysTime deadline, double remaining_s, bool started) {
  Decision d;
  SysTime next_boundary = floor_to(now, slot) + slot;
  d.next_decision_utc = next_boundary;
  // The window's capacity, summed only as far as it matters: once it exceeds the work by more
  // than kEpsilonS there is slack, and the rest of a long window cannot take it away.
  double capacity_s = 0;
  for (const auto& w : window) {
    capacity_s += w.capacity_s;
    if (capacity_s - kEpsilonS > remaining_s) break;
  }
  auto run_straight = [&](std::string reason, double needed_s) {
    d.run_now = true;
    d.straight_through = true;
    d.chosen.resize(window.size());
    std::iota(d.chosen.begin(), d.chosen.end(), 0);
    d.immediate_is = straight_intensity_seconds(window, needed_s);
    d.planned_is = d.immediate_is;
    d.reason = std::move(reason);
  };
  if (remaining_s <= 0) {  // nothing known to be left: both intensity-seconds are 0
    run_straight(
        "the job ran its expected duration without finishing: it runs straight "
        "through to the end",
        remaining_s);
    return d;
  }
  if (remaining_s >= capacity_s - kEpsilonS) {
    run_straight("no slack left before the deadline: the job runs straight through", remaining_s);
    return d;
  }
  if (algorithm == Algorithm::kFlexibleStart && started) {
    run_straight("flexible start: the job runs to completion", remaining_s);
    return d;
  }
  // A sliver of work over whole slots (the job started a few ms after a boundary) is not worth
  // running a whole extra slot for: plan whole slots and leave the sliver to a later decision.
  const double slot_s = to_seconds(slot);
  const double sliver_s = std::fmod(remaining_s, slot_s);
  const double plan_s = remaining_s > slot_s && sliver_s < kSliverShare * slot_s
                            ? remaining_s - sliver_s
                            : remaining_s;
  if (algorithm == Algorithm::kPauseResume) {
    // The same for capacity: deciding a few ms after a boundary leaves the first slot a sliver
    // short of whole, and without a tolerance one whole slot of work would take two slots, the
    // earliest of them being now (the job then never paused at a planned boundary).
    d.chosen = cheapest_slots(window, plan_s, kSliverShare * slot_s);
  } else {
    const size_t first = cheapest_block(window, plan_s);
    size_t last = first;
    for (double left = plan_s; last < window.size() && left > 1e-9; ++last) {
      left -= window[last].capacity_s;
    }
    d.chosen.reserve(last - first);
    for (size_t i = first; i < last; ++i) d.chosen.push_back(i);
  }
  d.planned_is = intensity_seconds(window, d.chosen, plan_s);
  d.immediate_is = straight_intensity_seconds(window, plan_s);
  d.run_now = !d.chosen.empty() && d.chosen.front() == 0;
  if (algorithm == Algorithm::kPauseResume && d.run_now && d.chosen.size() > 1 &&
      window[0].capacity_s < slot_s - 1e-6) {
    // Inside a slot (the job started a little after its boundary), the current slot may be
    // the marginal one: the dearest chosen, needed only for what the cheaper slots cannot hold.
    // Run just that long, then decide again, instead of running the whole slot and leaving a
    // cheaper one part-used (a job 64 ms late at its first slot otherwise never paused).
    size_t marginal = d.chosen.front();
    for (size_t i : d.chosen) {
      if (window[i].g_per_kwh >= window[marginal].g_per_kwh) marginal = i;
    }
    if (marginal == 0) {
      double others_s = 0;
      for (size_t i : d.chosen) {
        if (i != 0) others_s += window[i].capacity_s;
      }
      const double needed_now_s = plan_s - others_s;
      if (needed_now_s > 0 && needed_now_s < window[0].capacity_s) {
        d.next_decision_utc = std::min(next_boundary, now + from_seconds(needed_now_s));
      }
    }
  }
  if (!d.run_now) {
    // Slack runs out at deadline − remaining: wake then at the latest.
    SysTime slack_end = deadline - from_seconds(remaining_s);
    d.next_decision_utc = std::min(next_boundary, slack_end);
    d.reason = fmt::format("waiting for cleaner slots (next run from {})",
                           format_utc(window[d.chosen.front()].start_utc));
  } else {
    d.reason = "running in a planned slot";
  }
  return d;
}

}  // namespace carbonclock
