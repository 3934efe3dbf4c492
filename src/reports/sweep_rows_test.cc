#include "reports/sweep_rows.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <map>
#include <optional>
#include <random>

#include "reports/sweep_output.h"
#include "shifting/test_support.h"

namespace carbonclock {
namespace {

std::string fixed(double v, int decimals) {
  std::string out;
  append_fixed(out, v, decimals);
  return out;
}

// fmt's "{:.Nf}" text without the sign of a negative value that rounds to zero ("-0.0000").
std::string fmt_fixed_without_negative_zero(double v, int decimals) {
  std::string out = fmt::format("{:.{}f}", v, decimals);
  if (out.starts_with('-') && out.find_first_not_of("-0.") == std::string::npos) out.erase(0, 1);
  return out;
}

TEST(SweepRows, FixedPointRoundsHalfToEvenLikeFmt) {
  // Exact ties in binary: 1/128 = 0.0078125 rounds to even at six decimals.
  EXPECT_EQ(fixed(0.0078125, 6), "0.007812");
  EXPECT_EQ(fixed(0.0234375, 6), "0.023438");
  EXPECT_EQ(fixed(0.125, 2), "0.12");
  EXPECT_EQ(fixed(0.375, 2), "0.38");
  EXPECT_EQ(fixed(2.5, 0), "2");
  // Negative zero after rounding is written without its sign (fmt writes "-0.0000").
  EXPECT_EQ(fixed(-0.0, 4), "0.0000");
  EXPECT_EQ(fixed(-0.00004, 4), "0.0000");
  EXPECT_EQ(fixed(-1e-12, 6), "0.000000");
  EXPECT_EQ(fixed(-0.4, 0), "0");
  EXPECT_EQ(fixed(-0.00006, 4), "-0.0001");
  EXPECT_EQ(fixed(75.0, 4), "75.0000");
  EXPECT_EQ(fixed(800.0, 6), "800.000000");
  EXPECT_EQ(fixed(-12.34565, 4), fmt::format("{:.4f}", -12.34565));
  EXPECT_EQ(fixed(NAN, 4), fmt::format("{:.4f}", NAN));
  EXPECT_EQ(fixed(1e300, 6), fmt::format("{:.6f}", 1e300));
}

TEST(SweepRows, FixedPointEqualsFmtOnRandomDoubles) {
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> exponent(-30, 25);
  std::uniform_int_distribution<int> decimals(0, 9);
  for (int i = 0; i < 120'000; ++i) {
    double v = std::pow(10.0, exponent(rng)) * (rng() % 2 ? 1 : -1);
    if (i % 3 == 0) v = std::bit_cast<double>(rng());  // any bit pattern, subnormals too
    if (i % 5 == 0) v = static_cast<double>(rng() % 100'000) / 1024.0;  // exact ties
    const int d = i % 2 ? 6 : decimals(rng);
    ASSERT_EQ(fixed(v, d), fmt_fixed_without_negative_zero(v, d))
        << std::hexfloat << v << " d=" << d;
  }
}

TEST(SweepRows, UtcMinutesEqualFormatUtcMinutes) {
  std::mt19937_64 rng(8);
  std::uniform_int_distribution<int64_t> seconds(-4'000'000'000LL, 8'000'000'000LL);
  for (int i = 0; i < 100'000; ++i) {
    SysTime t = SysTime{} + std::chrono::seconds(seconds(rng)) + Nanos(rng() % 1'000'000'000);
    std::string out;
    append_utc_minutes(out, t);
    ASSERT_EQ(out, format_utc_minutes(t));
  }
}

/// Collects blocks' CSV per (zone, job) cell, and whole cells through run_sweep.
class CsvSink : public SweepSink {
 public:
  explicit CsvSink(const SweepCsvRows& rows) : rows_(rows) {}
  void render(const SweepBlock& block, std::string& out) override { rows_.append(block, out); }
  Status consume(const SweepBlock& block, std::string_view rendered) override {
    by_cell[{block.zone, block.job}] += rendered;
    return Status::ok_status();
  }
  std::map<std::pair<size_t, size_t>, std::string> by_cell;

 private:
  const SweepCsvRows& rows_;
};

// The streamed rows equal append_sweep_csv's, byte for byte, over gaps, skipped starts, quoted
// names, several zones, jobs, windows and blocks.
TEST(SweepRows, CsvRowsEqualTheCellFormatter) {
  std::mt19937_64 rng(9);
  std::vector<SweepZone> zones;
  for (int z = 0; z < 2; ++z) {
    auto values = testing::random_real_values(rng, 900);
    values[400 + static_cast<size_t>(z) * 100] = NAN;
    SweepZone zone{testing::slotted(values), {}};
    zone.intensity.zone = z == 0 ? "DE" : "US,\"CAL\"";
    for (size_t s = 0; s < 900; s += 1 + rng() % 9)
      zone.starts.push_back(zone.intensity.slot_start(s));
    zones.push_back(std::move(zone));
  }
  std::vector<SweepJob> jobs{{"BERT, finetune", 1.5, 3.1}, {"tiny", 0.1, 0.002}};
  auto windows = parse_windows("1h,25%,100%").value();
  SweepLabels labels;
  for (const SweepJob& j : jobs) labels.jobs.push_back(j.name);
  for (const SweepZone& z : zones) {
    labels.zones.push_back(z.intensity.zone);
    labels.zone_starts.push_back(z.starts);
  }
  for (const ShiftWindow& w : windows) labels.windows.push_back(w.label);
  SweepCsvRows rows(labels.jobs, labels.zones, labels.windows);
  CsvSink sink(rows);
  SweepOptions options;
  options.threads = 2;
  options.block_starts = 17;
  ASSERT_TRUE(run_sweep_blocks(jobs, zones, windows, options, sink).ok());
  size_t cells = 0;
  ASSERT_TRUE(run_sweep(jobs, zones, windows, options, [&](SweepCell&& cell) {
                std::string expected;
                append_sweep_csv(cell, labels, expected);
                EXPECT_FALSE(expected.empty());
                const std::string& streamed = sink.by_cell[std::pair(cell.zone, cell.job)];
                EXPECT_EQ(streamed, expected);
                ++cells;
              }).ok());
  EXPECT_EQ(cells, 4u);
}

/// Concatenates the rendered blocks in the order they are handed over.
class StreamSink : public SweepSink {
 public:
  explicit StreamSink(const SweepCsvRows& rows) : rows_(rows) {}
  void render(const SweepBlock& block, std::string& out) override { rows_.append(block, out); }
  Status consume(const SweepBlock&, std::string_view rendered) override {
    text += rendered;
    return Status::ok_status();
  }
  std::string text;

 private:
  const SweepCsvRows& rows_;
};

// With ascending starts and job-major order, the streamed file is byte for byte the one built
// from whole cells (job-major, as `sweep --format csv` writes it).
TEST(SweepRows, JobMajorStreamEqualsTheWholeFile) {
  std::mt19937_64 rng(10);
  std::vector<SweepZone> zones;
  for (int z = 0; z < 3; ++z) {
    SweepZone zone{testing::slotted(testing::random_tied_values(rng, 600, 4)), {}};
    zone.intensity.zone = "Z" + std::to_string(z);
    zone.starts = starts_every(zone.intensity.first_slot_utc, zone.intensity.end_utc(),
                               std::chrono::minutes(15 * (z + 1)));
    zones.push_back(std::move(zone));
  }
  std::vector<SweepJob> jobs{{"a", 0.5, 1.0}, {"b", 2.0, 7.5}};
  auto windows = parse_windows("30m,100%").value();
  SweepLabels labels;
  for (const SweepJob& j : jobs) labels.jobs.push_back(j.name);
  for (const SweepZone& z : zones) {
    labels.zones.push_back(z.intensity.zone);
    labels.zone_starts.push_back(z.starts);
  }
  for (const ShiftWindow& w : windows) labels.windows.push_back(w.label);
  std::vector<std::optional<SweepCell>> cells(jobs.size() * zones.size());
  SweepOptions options;
  options.threads = 2;
  ASSERT_TRUE(run_sweep(jobs, zones, windows, options, [&](SweepCell&& c) {
                cells[c.job * zones.size() + c.zone] = std::move(c);
              }).ok());
  std::string whole = sweep_csv_header();
  for (const auto& c : cells) append_sweep_csv(*c, labels, whole);

  SweepCsvRows rows(labels.jobs, labels.zones, labels.windows);
  StreamSink sink(rows);
  options.order = SweepOrder::kJobMajor;
  options.block_starts = 10;
  ASSERT_TRUE(run_sweep_blocks(jobs, zones, windows, options, sink).ok());
  EXPECT_GT(whole.size(), 10'000u);
  EXPECT_TRUE(sweep_csv_header() + sink.text == whole);
}

}  // namespace
}  // namespace carbonclock
