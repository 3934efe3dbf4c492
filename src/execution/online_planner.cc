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

}  // namespace

std::vector<WindowSlot> remaining_window(const SlottedIntensity& intensity, SysTime now,
                                         SysTime deadline) {
  std::vector<WindowSlot> out;
  if (intensity.size() == 0) return out;
  SysTime t = now;
  while (t < deadline) {
    SysTime end = std::min(floor_to(t, intensity.slot) + intensity.slot, deadline);
    double g;
    if (auto v = intensity.at(t)) {
      g = *v;
    } else {
      g = t < intensity.first_slot_utc ? intensity.g_per_kwh(0)
                                       : intensity.g_per_kwh(intensity.size() - 1);
    }
    out.push_back({t, to_seconds(end - t), g});
    t = end;
  }
  return out;
}

std::vector<size_t> cheapest_slots(std::span<const WindowSlot> window, double needed_s,
                                   double tolerance_s) {
  std::vector<size_t> order(window.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return window[a].g_per_kwh < window[b].g_per_kwh; });
  std::vector<size_t> chosen;
  double have = 0;
  for (size_t i : order) {
    // The tolerance forgives a sliver short of whole slots, never work with no slot at all.
    if (have >= needed_s - (chosen.empty() ? 1e-9 : tolerance_s)) break;
    chosen.push_back(i);
    have += window[i].capacity_s;
  }
  std::sort(chosen.begin(), chosen.end());
  return chosen;
}

size_t cheapest_block(std::span<const WindowSlot> window, double needed_s) {
  const size_t n = window.size();
  std::vector<double> cap(n + 1, 0), cost(n + 1, 0);
  for (size_t i = 0; i < n; ++i) {
    cap[i + 1] = cap[i] + window[i].capacity_s;
    cost[i + 1] = cost[i] + window[i].capacity_s * window[i].g_per_kwh;
  }
  size_t best = 0;
  double best_cost = 0;
  bool found = false;
  size_t j = 0;  // the slot where the run from i ends (monotonic in i)
  for (size_t i = 0; i < n; ++i) {
    j = std::max(j, i);
    while (j < n && cap[j + 1] - cap[i] < needed_s - 1e-9) ++j;
    if (j >= n) break;  // no later start fits either
    double c = cost[j] - cost[i] + window[j].g_per_kwh * (needed_s - (cap[j] - cap[i]));
    if (!found || c < best_cost - 1e-9) {
      best = i;
      best_cost = c;
      found = true;
    }
  }
  return best;
}

double intensity_seconds(std::span<const WindowSlot> window, std::span<const size_t> chosen,
                         double needed_s) {
  double left = needed_s, total = 0;
  for (size_t i : chosen) {
    if (left <= 0) break;
    double used = std::min(left, window[i].capacity_s);
    total += used * window[i].g_per_kwh;
    left -= used;
  }
  return total;
}

Decision decide(Algorithm algorithm, const SlottedIntensity& intensity, SysTime now,
                SysTime deadline, double remaining_s, bool started) {
  Decision d;
  d.window = remaining_window(intensity, now, deadline);
  SysTime next_boundary = floor_to(now, intensity.slot) + intensity.slot;
  d.next_decision_utc = next_boundary;
  std::vector<size_t> straight(d.window.size());
  std::iota(straight.begin(), straight.end(), 0);
  double capacity_s = 0;
  for (const auto& w : d.window) capacity_s += w.capacity_s;
  auto run_straight = [&](std::string reason) {
    d.run_now = true;
    d.straight_through = true;
    d.chosen = straight;
    d.reason = std::move(reason);
    return d;
  };
  if (remaining_s <= 0) {
    return run_straight(
        "the job ran its expected duration without finishing: it runs straight "
        "through to the end");
  }
  d.immediate_is = intensity_seconds(d.window, straight, remaining_s);
  if (remaining_s >= capacity_s - kEpsilonS) {
    d.planned_is = d.immediate_is;
    return run_straight("no slack left before the deadline: the job runs straight through");
  }
  if (algorithm == Algorithm::kFlexibleStart && started) {
    d.planned_is = d.immediate_is;
    return run_straight("flexible start: the job runs to completion");
  }
  // A sliver of work over whole slots (the job started a few ms after a boundary) is not worth
  // running a whole extra slot for: plan whole slots and leave the sliver to a later decision.
  const double slot_s = to_seconds(intensity.slot);
  const double sliver_s = std::fmod(remaining_s, slot_s);
  const double plan_s = remaining_s > slot_s && sliver_s < kSliverShare * slot_s
                            ? remaining_s - sliver_s
                            : remaining_s;
  if (algorithm == Algorithm::kPauseResume) {
    // The same for capacity: deciding a few ms after a boundary leaves the first slot a sliver
    // short of whole, and without a tolerance one whole slot of work would take two slots, the
    // earliest of them being now (the job then never paused at a planned boundary).
    d.chosen = cheapest_slots(d.window, plan_s, kSliverShare * slot_s);
  } else {
    size_t first = cheapest_block(d.window, plan_s);
    double left = plan_s;
    for (size_t i = first; i < d.window.size() && left > 1e-9; ++i) {
      d.chosen.push_back(i);
      left -= d.window[i].capacity_s;
    }
  }
  d.planned_is = intensity_seconds(d.window, d.chosen, plan_s);
  d.immediate_is = intensity_seconds(d.window, straight, plan_s);
  d.run_now = !d.chosen.empty() && d.chosen.front() == 0;
  if (algorithm == Algorithm::kPauseResume && d.run_now && d.chosen.size() > 1 &&
      d.window[0].capacity_s < slot_s - 1e-6) {
    // Inside a slot (the job started a little after its boundary), the current slot may be
    // the marginal one: the dearest chosen, needed only for what the cheaper slots cannot hold.
    // Run just that long, then decide again, instead of running the whole slot and leaving a
    // cheaper one part-used (a job 64 ms late at its first slot otherwise never paused).
    size_t marginal = d.chosen.front();
    for (size_t i : d.chosen) {
      if (d.window[i].g_per_kwh >= d.window[marginal].g_per_kwh) marginal = i;
    }
    if (marginal == 0) {
      double others_s = 0;
      for (size_t i : d.chosen) {
        if (i != 0) others_s += d.window[i].capacity_s;
      }
      const double needed_now_s = plan_s - others_s;
      if (needed_now_s > 0 && needed_now_s < d.window[0].capacity_s) {
        d.next_decision_utc = std::min(next_boundary, now + from_seconds(needed_now_s));
      }
    }
  }
  if (!d.run_now) {
    // Slack runs out at deadline − remaining: wake then at the latest.
    SysTime slack_end = deadline - from_seconds(remaining_s);
    d.next_decision_utc = std::min(next_boundary, slack_end);
    d.reason = fmt::format("waiting for cleaner slots (next run from {})",
                           format_utc(d.window[d.chosen.front()].start_utc));
  } else {
    d.reason = "running in a planned slot";
  }
  return d;
}

}  // namespace carbonclock
