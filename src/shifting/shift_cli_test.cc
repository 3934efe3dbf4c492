// End to end: `carbonclock grid import`, then `shift` and `sweep` on a small hand-made series.
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

namespace {

namespace fs = std::filesystem;

struct Output {
  int rc = 0;
  std::string out;
};

Output run(const std::string& args) {
  std::string cmd = std::string(CARBONCLOCK_BINARY_DIR) + "/carbonclock " + args + " 2>&1";
  Output o;
  FILE* p = popen(cmd.c_str(), "r");
  std::array<char, 4096> buf{};
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) o.out.append(buf.data(), n);
  int status = pclose(p);
  o.rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return o;
}

class ShiftCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("cc_shift_cli_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    // 48 hours of 400 g/kWh, except 100 at 06:00–10:00 on the first day, and a gap on the
    // second day at 12:00.
    std::ofstream csv(dir_ / "z.csv");
    csv << "time,value\n";
    for (int h = 0; h < 48; ++h) {
      if (h == 36) continue;
      csv << "2023-01-" << (h < 24 ? "01" : "02") << "T" << (h % 24 < 10 ? "0" : "") << h % 24
          << ":00Z," << (h >= 6 && h < 10 ? 100 : 400) << "\n";
    }
    csv.close();
    db_ = (dir_ / "cc.db").string();
    auto imp =
        run("grid import --zone TESTZ --step 1h --db " + db_ + " " + (dir_ / "z.csv").string());
    ASSERT_EQ(imp.rc, 0) << imp.out;
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
  std::string db_;
};

TEST_F(ShiftCli, FlexibleStartMovesTheJobToTheCleanHours) {
  auto o =
      run("shift --zone TESTZ --start 2023-01-01T00:00Z --duration 2h --energy-kwh 2 "
          "--flex-start 6h --db " +
          db_);
  ASSERT_EQ(o.rc, 0) << o.out;
  EXPECT_NE(o.out.find("TESTZ average/lifecycle"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("baseline 800.000 g"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("200.000 g (-75.00 % vs baseline), start 2023-01-01T06:00Z"),
            std::string::npos)
      << o.out;
}

TEST_F(ShiftCli, SweepCsvRowsAndCountedSkips) {
  std::ofstream(dir_ / "starts.txt") << "2023-01-01T00:00Z\n2023-01-02T10:00Z\n2023-01-02T23:00Z\n";
  std::ofstream(dir_ / "jobs.csv") << "name,duration_h,energy_kwh\nsmall,2,2\n";
  auto o = run("sweep --jobs " + (dir_ / "jobs.csv").string() +
               " --zones TESTZ --windows 6h "
               "--starts " +
               (dir_ / "starts.txt").string() + " --format csv --db " + db_);
  ASSERT_EQ(o.rc, 0) << o.out;
  EXPECT_NE(o.out.find("job,zone,start_utc,window,algorithm,baseline_g,shifted_g,reduction_pct,"
                       "pauses\n"
                       "small,TESTZ,2023-01-01T00:00Z,6h,flexible-start,800.000000,200.000000,"
                       "75.0000,0\n"
                       "small,TESTZ,2023-01-01T00:00Z,6h,pause-resume,800.000000,200.000000,"
                       "75.0000,0\n"),
            std::string::npos)
      << o.out;
  // 10:00 on day 2: the window reaches the 12:00 gap; 23:00: past the data.
  EXPECT_NE(o.out.find("1 skipped (window outside the data), 1 skipped (gap in the window)"),
            std::string::npos)
      << o.out;
  EXPECT_EQ(o.out.find("2023-01-02T10:00Z"), std::string::npos) << o.out;
}

TEST_F(ShiftCli, UnknownZoneAndGapAreErrors) {
  auto unknown =
      run("shift --zone NOPE --start 2023-01-01T00:00Z --duration 1h --energy-kwh 1 "
          "--pause-resume 1h --db " +
          db_);
  EXPECT_NE(unknown.rc, 0);
  EXPECT_NE(unknown.out.find("NOPE"), std::string::npos) << unknown.out;
  auto gap =
      run("shift --zone TESTZ --start 2023-01-02T10:00Z --duration 1h --energy-kwh 1 "
          "--pause-resume 3h --db " +
          db_);
  EXPECT_NE(gap.rc, 0);
  EXPECT_NE(gap.out.find("gap"), std::string::npos) << gap.out;
  auto md =
      run("sweep --zones TESTZ --windows 6h,100% --starts-per-month 1 --format md --db " + db_);
  ASSERT_EQ(md.rc, 0) << md.out;
  EXPECT_NE(md.out.find("## Window +100%"), std::string::npos) << md.out;
  EXPECT_NE(md.out.find("| DenseNet 121 |"), std::string::npos) << md.out;
}

}  // namespace
