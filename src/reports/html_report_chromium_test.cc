// The HTML report in a real browser: headless Chromium loads it with no console errors, lays
// out the legends of an 8-GPU run inside the viewport (measured by the browser), and its
// screenshot shows every legend swatch in its colour where the browser put it, on a page far
// from blank. Skipped without chromium.
#include <gtest/gtest.h>
#include <png.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

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
                      "--disable-quic --disable-dev-shm-usage --hide-scrollbars "
                      "--force-device-scale-factor=1 --enable-logging=stderr --v=0 "
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

// A decoded screenshot: RGB, row-major.
struct Image {
  uint32_t width = 0, height = 0;
  std::vector<uint8_t> rgb;
  std::array<uint8_t, 3> at(uint32_t x, uint32_t y) const {
    size_t i = (size_t(y) * width + x) * 3;
    return {rgb[i], rgb[i + 1], rgb[i + 2]};
  }
};

// Decodes a PNG with libpng's simplified API.
Image decode_png(const std::string& data) {
  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  Image out;
  if (!png_image_begin_read_from_memory(&image, data.data(), data.size())) return out;
  image.format = PNG_FORMAT_RGB;
  out.width = image.width;
  out.height = image.height;
  out.rgb.resize(PNG_IMAGE_SIZE(image));
  if (!png_image_finish_read(&image, nullptr, out.rgb.data(), 0, nullptr)) out = {};
  png_image_free(&image);
  return out;
}

std::array<uint8_t, 3> css_color(const std::string& hex) {
  auto byte = [&](size_t at) {
    return static_cast<uint8_t>(std::stoi(hex.substr(at, 2), nullptr, 16));
  };
  return {byte(1), byte(3), byte(5)};
}

// A 2-hour run on an 8-GPU node with long model names, carbon-aware (one pause).
RunRecord eight_gpu_run() {
  std::vector<std::string> gpus;
  for (int i = 0; i < 8; ++i) gpus.push_back("NVIDIA H100 80GB HBM3");
  auto run = testing::make_run(testing::utc("2026-03-01T10:00Z"), 2h, 5min,
                               std::vector<double>(24, 8 * 400.0 * 300), gpus, true);
  run.host_info = HostInfo{"AMD EPYC 9654 96-Core Processor", 192, 1511.6, "Linux", "3.11.2"};
  run.schedule = nlohmann::json::parse(R"({
    "algorithm": "pause-resume", "window": "50%",
    "requested_start_utc": "2026-03-01T10:00:00.000Z", "deadline_utc": "2026-03-01T13:00:00.000Z",
    "expected_duration_s": 7200,
    "plan": {"planned_at_utc": "2026-03-01T10:00:00.000Z", "expected_saving_pct": 8.5,
             "runs": [{"start_utc": "2026-03-01T10:00:00.000Z", "end_utc": "2026-03-01T11:00:00.000Z"},
                      {"start_utc": "2026-03-01T11:30:00.000Z", "end_utc": "2026-03-01T12:30:00.000Z"}]},
    "events": [{"at_utc": "2026-03-01T10:00:00.000Z", "action": "start"},
               {"at_utc": "2026-03-01T11:00:00.000Z", "action": "pause"},
               {"at_utc": "2026-03-01T11:30:00.000Z", "action": "resume"},
               {"at_utc": "2026-03-01T12:30:00.000Z", "action": "exit"}],
    "running": [], "pauses": 1})");
  return run;
}

TEST_F(ChromiumTest, HtmlReportLaysOutEightLegendsInsideTheViewportAndIsNotBlank) {
  auto run = eight_gpu_run();
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
  const std::string html = report_html(run, *acc, x);
  fs::path page = dir_.path() / "report.html";
  ASSERT_TRUE(write_file_atomic(page, html).ok());

  // 1. The browser's own layout: a copy of the page with a script that writes the legend
  //    entries' boxes into the DOM, dumped after load.
  const int kWidth = 1200;
  std::string probe = html;
  probe.insert(probe.rfind("</body>"), R"(<pre id="cc-probe"></pre><script>
const out = {viewport: window.innerWidth, height: document.documentElement.scrollHeight,
             legends: []};
for (const g of document.querySelectorAll("svg")[0].querySelectorAll("g.cc-legend")) {
  const r = g.querySelector("rect").getBoundingClientRect();
  const t = g.querySelector("text").getBoundingClientRect();
  out.legends.push({label: g.textContent, color: g.querySelector("rect").getAttribute("fill"),
                    rect: [r.left, r.top, r.right, r.bottom], text: [t.left, t.top, t.right, t.bottom]});
}
document.getElementById("cc-probe").textContent = JSON.stringify(out);
</script>)");
  fs::path probe_page = dir_.path() / "probe.html";
  ASSERT_TRUE(write_file_atomic(probe_page, probe).ok());
  ASSERT_EQ(chromium(probe_page, fmt::format("--window-size={},4000 --dump-dom", kWidth), "dom"), 0)
      << err("dom");
  std::string dom = out("dom");
  size_t a = dom.find("<pre id=\"cc-probe\">");
  ASSERT_NE(a, std::string::npos) << dom.substr(0, 2000);
  a += std::strlen("<pre id=\"cc-probe\">");
  std::string probed = dom.substr(a, dom.find("</pre>", a) - a);
  for (auto [from, to] : {std::pair{"&quot;", "\""}, std::pair{"&amp;", "&"}}) {
    for (size_t p = probed.find(from); p != std::string::npos; p = probed.find(from, p)) {
      probed.replace(p, std::strlen(from), to);
    }
  }
  auto m = nlohmann::json::parse(probed);
  EXPECT_EQ(m["viewport"], kWidth);
  ASSERT_EQ(m["legends"].size(), 9u) << probed;  // 8 GPUs and the CPU package
  for (const auto& l : m["legends"]) {
    EXPECT_GE(l["rect"][0].get<double>(), 0) << l;
    EXPECT_LE(l["text"][2].get<double>(), kWidth) << l;  // the text's right edge is visible
    EXPECT_GT(l["text"][2].get<double>(), l["text"][0].get<double>()) << l;  // and laid out
  }
  // Chromium logs every console message as "...:INFO:CONSOLE:<line>] "<text>", source: ..."
  // (uncaught errors as "Uncaught ..."); the probe logs nothing, so any is a failure.
  std::string log = err("dom");
  EXPECT_EQ(log.find("Uncaught"), std::string::npos) << log;
  EXPECT_EQ(log.find(":CONSOLE"), std::string::npos) << log;

  // 2. The screenshot of the page as shipped: every legend swatch is there, in its colour,
  //    where the browser laid it out.
  const int height = std::min(m["height"].get<int>() + 50, 8000);
  fs::path shot = dir_.path() / "report.png";
  ASSERT_EQ(
      chromium(page,
               fmt::format("--screenshot='{}' --window-size={},{}", shot.string(), kWidth, height),
               "shot"),
      0)
      << err("shot");
  auto png = read_file(shot);
  ASSERT_TRUE(png.ok());
  Image image = decode_png(*png);
  ASSERT_EQ(image.width, static_cast<uint32_t>(kWidth));
  ASSERT_EQ(image.height, static_cast<uint32_t>(height));
  for (const auto& l : m["legends"]) {
    double cx = (l["rect"][0].get<double>() + l["rect"][2].get<double>()) / 2;
    double cy = (l["rect"][1].get<double>() + l["rect"][3].get<double>()) / 2;
    ASSERT_LT(cx, image.width);
    ASSERT_LT(cy, image.height);
    EXPECT_EQ(image.at(static_cast<uint32_t>(cx), static_cast<uint32_t>(cy)),
              css_color(l["color"].get<std::string>()))
        << l;
  }
  // Not blank: a white page has no ink; charts, tables and text cover a good share of it.
  size_t ink = 0;
  for (size_t i = 0; i + 2 < image.rgb.size(); i += 3) {
    ink += image.rgb[i] < 200 || image.rgb[i + 1] < 200 || image.rgb[i + 2] < 200;
  }
  EXPECT_GT(ink, image.rgb.size() / 3 / 50) << "fewer than 2% of the pixels have ink";
  if (const char* keep = std::getenv("CARBONCLOCK_KEEP_SCREENSHOT")) {
    fs::copy_file(shot, keep, fs::copy_options::overwrite_existing);
  }
}

}  // namespace
}  // namespace carbonclock
