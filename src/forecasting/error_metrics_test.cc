#include "forecasting/error_metrics.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

namespace carbonclock {
namespace {

TEST(HorizonErrors, MaeAndMapePerStep) {
  HorizonErrors e(2);
  e.add(1, 90, 100);   // |10|, 10 %
  e.add(1, 250, 200);  // |50|, 25 %
  e.add(1, NAN, 200);  // ignored
  e.add(2, 5, 0);      // |5|, no percentage (actual 0)
  EXPECT_EQ(e.count(1), 2u);
  EXPECT_DOUBLE_EQ(e.mae(1), 30.0);
  EXPECT_DOUBLE_EQ(e.mape_pct(1), 17.5);
  EXPECT_DOUBLE_EQ(e.mae(2), 5.0);
  EXPECT_TRUE(std::isnan(e.mape_pct(2)));
  EXPECT_DOUBLE_EQ(e.mean_mae(1, 2), 17.5);
  HorizonErrors other(2);
  other.add(2, 15, 10);  // |5|, 50 %
  e.merge(other);
  EXPECT_DOUBLE_EQ(e.mae(2), 5.0);
  EXPECT_DOUBLE_EQ(e.mape_pct(2), 50.0);
}

TEST(RollingErrors, KeepsOnlyTheLastCapacityErrors) {
  RollingErrors r(1, 3);
  for (double actual : {110.0, 120.0, 130.0, 140.0}) r.add(1, 100, actual);  // errors 10..40
  EXPECT_EQ(r.count(1), 3u);
  EXPECT_DOUBLE_EQ(r.mae(1), 30.0);  // 20, 30, 40
  EXPECT_NEAR(r.mape_pct(1), 100.0 * (20.0 / 120 + 30.0 / 130 + 40.0 / 140) / 3, 1e-4);
}

TEST(RollingErrors, SumsStayExactOverManyLaps) {
  RollingErrors r(1, 4);
  for (int i = 0; i < 1003; ++i) r.add(1, 0, 0.1 * (i % 7) + 1e6 * (i % 2));
  // The last four: i = 999..1002.
  double expected = 0;
  for (int i = 999; i < 1003; ++i) expected += 0.1 * (i % 7) + 1e6 * (i % 2);
  EXPECT_NEAR(r.mae(1), expected / 4, 1e-6);
}

TEST(RollingErrors, NearestRankQuantiles) {
  RollingErrors r(2, 100, 1);                    // a snapshot after every error
  for (int e = 11; e >= 1; --e) r.add(1, 0, e);  // errors 1..11, any order
  ErrorQuantiles q = r.quantiles(1);
  EXPECT_EQ(q.samples, 11u);
  EXPECT_DOUBLE_EQ(q.q10, 2.0);  // rank round(0.1 × 10) = 1
  EXPECT_DOUBLE_EQ(q.q50, 6.0);
  EXPECT_DOUBLE_EQ(q.q90, 10.0);
  EXPECT_EQ(r.quantiles(2).samples, 0u);
  r.add(2, 5, 2);  // one error: every quantile is it
  q = r.quantiles(2);
  EXPECT_DOUBLE_EQ(q.q10, -3.0);
  EXPECT_DOUBLE_EQ(q.q90, -3.0);
}

TEST(RollingErrors, QuantilesComeFromTheLatestSnapshot) {
  RollingErrors r(1, 100, 4);
  for (double e : {1.0, 2.0, 3.0}) r.add(1, 0, e);
  EXPECT_EQ(r.quantiles(1).samples, 0u);  // no snapshot yet
  r.add(1, 0, 4);
  ErrorQuantiles q = r.quantiles(1);
  EXPECT_EQ(q.samples, 4u);
  EXPECT_DOUBLE_EQ(q.q90, 4.0);  // rank round(0.9 × 3) = 3
  for (double e : {100.0, 200.0, 300.0}) r.add(1, 0, e);
  EXPECT_DOUBLE_EQ(r.quantiles(1).q90, 4.0);  // unchanged until the next snapshot
  EXPECT_DOUBLE_EQ(r.mae(1), (1 + 2 + 3 + 4 + 100 + 200 + 300) / 7.0);  // MAE is current
  r.add(1, 0, 400);
  EXPECT_EQ(r.quantiles(1).samples, 8u);
  EXPECT_DOUBLE_EQ(r.quantiles(1).q90, 300.0);  // rank round(0.9 × 7) = 6
}

TEST(RollingErrors, MatchesARecomputationFromTheLastErrorsAtEveryAdd) {
  // Many laps of the ring, with gaps (NaN: not added) and zero actuals (no percentage): MAE,
  // MAPE and the snapshot's quantiles equal a recomputation from the errors themselves.
  const size_t capacity = 7, every = 3;
  RollingErrors r(2, capacity, every);
  std::vector<double> errors, apes;  // step 2's errors in order, apes NaN for a zero actual
  std::vector<double> snapshot;
  std::mt19937 rng(5);
  std::uniform_real_distribution<double> u(-50, 50);
  for (int k = 0; k < 200; ++k) {
    const double actual = k % 11 == 0 ? 0.0 : 200 + u(rng), forecast = 200 + u(rng);
    if (k % 13 == 5) {
      r.add(2, std::nan(""), actual);  // ignored
      continue;
    }
    r.add(2, forecast, actual);
    errors.push_back(actual - forecast);
    apes.push_back(actual != 0 ? 100 * std::abs((actual - forecast) / actual) : std::nan(""));
    const size_t n = std::min(errors.size(), capacity);
    double abs_sum = 0, ape_sum = 0;
    size_t ape_n = 0;
    for (size_t j = errors.size() - n; j < errors.size(); ++j) {
      abs_sum += std::abs(static_cast<float>(errors[j]));
      if (!std::isnan(apes[j])) ape_sum += static_cast<float>(apes[j]), ++ape_n;
    }
    ASSERT_EQ(r.count(2), n);
    EXPECT_NEAR(r.mae(2), abs_sum / static_cast<double>(n), 1e-3) << k;
    if (ape_n) {
      EXPECT_NEAR(r.mape_pct(2), ape_sum / static_cast<double>(ape_n), 1e-3) << k;
    }
    if (errors.size() % every == 0) {
      snapshot.assign(errors.end() - static_cast<std::ptrdiff_t>(n), errors.end());
    }
    // Asked now and then, so that a snapshot is often read several errors after it was made.
    if (k % 5 != 0) continue;
    ErrorQuantiles q = r.quantiles(2);
    ASSERT_EQ(q.samples, snapshot.size()) << k;
    if (snapshot.empty()) continue;
    std::vector<float> sorted(snapshot.begin(), snapshot.end());
    std::sort(sorted.begin(), sorted.end());
    auto rank = [&](double p) {
      return sorted[static_cast<size_t>(std::lround(p * static_cast<double>(sorted.size() - 1)))];
    };
    EXPECT_EQ(q.q10, rank(0.1)) << k;
    EXPECT_EQ(q.q50, rank(0.5)) << k;
    EXPECT_EQ(q.q90, rank(0.9)) << k;
  }
  EXPECT_EQ(r.count(1), 0u);  // the other step saw nothing
}

}  // namespace
}  // namespace carbonclock
