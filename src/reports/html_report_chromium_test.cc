// The HTML report in a real browser: headless Chromium loads it with no console errors, its
// script marks it ready, and its screenshot is far from a blank page. Skipped without chromium.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "accounting/test_run.h"
#include "common/files.h"
#include "grid/test_util.h"
#include "reports/carbon_report.h"

namespace carbonclock {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

std::string find_chromium() {
  for (const char* name : {"chromium", "chromium-browser", "google-chrome"}) {
    for (const char* dir : {"/usr/bin", "/usr/local/bin", "/bin"}) {
      fs::path p = fs::path(dir) / name;
      if (::access(p.c_str(), X_OK) == 0) return p.string();
    }
  }
  return "";
}

class ChromiumTest : public ::testing::Test {
 protected:
  void SetUp() override {
    chromium_ = find_chromium();
    if (chromium_.empty()) {
      GTEST_SKIP() << "chromium is not installed (apt-get install -y chromium, or "
                      "scripts/setup.sh); the HTML report was not checked in a browser";
    }
  }
  // Runs chromium headless on `page` with `args`; stdout and stderr go to files in the temp dir.
  int chromium(const fs::path& page, const std::string& args, const std::string& tag) {
    fs::path profile = dir_.path() / ("profile-" + tag);
    std::string cmd = "timeout 120 '" + chromium_ +
                      "' --headless --no-sandbox --disable-gpu --no-first-run "
                      "--disable-background-networking --disable-component-update --disable-sync "
                      "--disable-quic --disable-dev-shm-usage --enable-logging=stderr --v=0 "
                      "--user-data-dir='" +
                      profile.string() + "' " + args + " 'file://" + page.string() + "' > '" +
                      (dir_.path() / (tag + ".out")).string() + "' 2> '" +
                      (dir_.path() / (tag + ".err")).string() + "'";
    return std::system(cmd.c_str());
  }
  std::string out(const std::string& tag) {
    return read_file(dir_.path() / (tag + ".out")).value();
  }
  std::string err(const std::string& tag) {
    return read_file(dir_.path() / (tag + ".err")).value();
  }

  std::string chromium_;
  testing::TempDir dir_;
};

// Width and height from a PNG's IHDR chunk (bytes 16..23, big-endian).
std::pair<uint32_t, uint32_t> png_size(const std::string& png) {
  auto be = [&](size_t at) {
    return (uint32_t(uint8_t(png[at])) << 24) | (uint32_t(uint8_t(png[at + 1])) << 16) |
           (uint32_t(uint8_t(png[at + 2])) << 8) | uint32_t(uint8_t(png[at + 3]));
  };
  if (png.size() < 24 || png.compare(1, 3, "PNG") != 0) return {0, 0};
  return {be(16), be(20)};
}

TEST_F(ChromiumTest, HtmlReportLoadsWithoutErrorsAndIsNotBlank) {
  // 2 hours at 400 W in 5-minute buckets; embedded profile only (no store).
  auto run =
      testing::make_run(testing::utc("2026-03-01T10:00Z"), 2h, 5min,
                        std::vector<double>(24, 400.0 * 300), {"NVIDIA A100-SXM4-40GB"}, false);
  AccountingInputs in;
  in.zone = "DE";
  in.selection = select_zone(std::nullopt, std::string("DE")).value();
  in.zone_origin = "--zone";
  IntensityProvider embedded_only(nullptr);
  auto acc = account_run(run, in, embedded_only);
  ASSERT_TRUE(acc.ok()) << acc.error().message();
  HtmlExtras x;
  x.by_zone = emissions_by_zone(run, 1.0, embedded_only);
  x.by_hour = emissions_by_start_hour(run, in.selection, Signal::kAverage, 1.0, embedded_only);
  fs::path page = dir_.path() / "report.html";
  ASSERT_TRUE(write_file_atomic(page, report_html(run, *acc, x)).ok());

  ASSERT_EQ(chromium(page, "--dump-dom", "dom"), 0) << err("dom");
  std::string dom = out("dom");
  EXPECT_NE(dom.find("data-cc-ready=\"1\""), std::string::npos) << dom.substr(0, 2000);
  EXPECT_NE(dom.find("rendered 4 charts"), std::string::npos);
  // Chromium logs every console message as "...:INFO:CONSOLE:<line>] "<text>", source: ..."
  // (uncaught errors as "Uncaught ..."); the page logs nothing, so any is a failure.
  std::string log = err("dom");
  EXPECT_EQ(log.find("Uncaught"), std::string::npos) << log;
  EXPECT_EQ(log.find(":CONSOLE"), std::string::npos) << log;

  fs::path shot = dir_.path() / "report.png";
  ASSERT_EQ(chromium(page, "--screenshot='" + shot.string() + "' --window-size=1200,2000", "shot"),
            0)
      << err("shot");
  fs::path blank_page = dir_.path() / "blank.html";
  ASSERT_TRUE(write_file_atomic(blank_page, "<!DOCTYPE html><html><body></body></html>").ok());
  fs::path blank = dir_.path() / "blank.png";
  ASSERT_EQ(chromium(blank_page, "--screenshot='" + blank.string() + "' --window-size=1200,2000",
                     "blank"),
            0);
  auto png = read_file(shot);
  auto blank_png = read_file(blank);
  ASSERT_TRUE(png.ok() && blank_png.ok());
  EXPECT_EQ(png_size(*png), (std::pair<uint32_t, uint32_t>{1200, 2000}));
  // A white page compresses to a few kB; charts and text make the PNG many times larger.
  EXPECT_GT(png->size(), 10 * blank_png->size())
      << "report " << png->size() << " bytes, blank " << blank_png->size();
}

}  // namespace
}  // namespace carbonclock
