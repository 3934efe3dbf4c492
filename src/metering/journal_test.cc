#include "metering/journal.h"

#include <gtest/gtest.h>

#include <fstream>

#include "common/files.h"
#include "metering/test_support.h"

namespace carbonclock {
namespace {

using namespace std::chrono_literals;

class JournalTest : public testing::RunDirTest {
 protected:
  JournalTest() : RunDirTest("cc_journal") {}
};

TEST_F(JournalTest, KilledRunIsRecoveredFromFlushedSamples) {
  record().zone = "DE";
  record().pue = 1.2;
  {
    auto w = JournalWriter::create(dir(), record());
    ASSERT_TRUE(w.ok()) << w.error().message();
    for (int i = 0; i <= 120; ++i) {
      (*w)->sample(std::chrono::seconds(i), std::vector<double>{200.0 * i, 10.0 * i});
    }
    (*w)->warning(60s, "gpu1 vanished");
    ASSERT_TRUE((*w)->flush().ok());
  }
  // A torn last line, as if the process died mid-write.
  std::ofstream(dir() / kJournalFile, std::ios::app) << R"({"t":121.0,"e":[24)";
  auto run = load_run(dir());
  ASSERT_TRUE(run.ok()) << run.error().message();
  EXPECT_TRUE(run->recovered);
  EXPECT_FALSE(run->exit_code.has_value());
  EXPECT_EQ(run->zone, "DE");  // accounting choices survive in the journal header
  EXPECT_EQ(run->pue, 1.2);
  EXPECT_NEAR(run->timeline.total_j(), 210.0 * 120, 1e-6);
  EXPECT_EQ(run->duration_s(), 120);
  ASSERT_EQ(run->timeline.buckets.size(), 2u);
  EXPECT_NEAR(run->timeline.buckets[0].energy_j[0], 200.0 * 60, 1e-6);
  EXPECT_NEAR(run->measured_share(), 200.0 / 210.0, 1e-9);
  ASSERT_GE(run->warnings.size(), 2u);
  EXPECT_EQ(run->warnings[0], "gpu1 vanished");
  EXPECT_NE(run->warnings.back().find("recovered"), std::string::npos);
}

TEST_F(JournalTest, RunJsonRoundTrips) {
  TimelineBuilder b(record().start_utc, 5min, record().timeline.devices);
  b.add(0s, std::vector<double>{0, 0});
  b.add(400s, std::vector<double>{4000, 400});
  record().timeline = b.timeline();
  record().end_utc = record().start_utc + 400s;
  record().exit_code = 3;
  record().scheduler = {{"SLURM_JOB_ID", "42"}};
  ASSERT_TRUE(save_run(record(), dir()).ok());
  auto back = load_run(dir());
  ASSERT_TRUE(back.ok()) << back.error().message();
  EXPECT_EQ(back->exit_code, 3);
  EXPECT_FALSE(back->recovered);
  EXPECT_EQ(back->scheduler.at("SLURM_JOB_ID"), "42");
  EXPECT_NEAR(back->timeline.total_j(), 4400, 1e-9);
  EXPECT_EQ(back->timeline.devices[0].uuid, "GPU-1");
  EXPECT_EQ(run_to_json(*back), run_to_json(record()));
}

TEST_F(JournalTest, NewerSchemaIsRefused) {
  ASSERT_TRUE(save_run(record(), dir()).ok());
  auto doc = nlohmann::json::parse(read_file(dir() / kRunFile).value());
  doc["schema_version"] = kRunSchemaVersion + 1;
  ASSERT_TRUE(write_file_atomic(dir() / kRunFile, doc.dump()).ok());
  auto r = load_run(dir());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("newer"), std::string::npos);
}

TEST_F(JournalTest, MissingOrForeignDirectoryIsAClearError) {
  EXPECT_NE(load_run(dir() / "nope").error().message().find("no such run directory"),
            std::string::npos);
  EXPECT_NE(load_run(dir()).error().message().find("not a carbonclock run directory"),
            std::string::npos);
  std::ofstream(dir() / kRunFile) << R"({"schema_version": 1, "id": )";
  EXPECT_NE(load_run(dir()).error().message().find("damaged"), std::string::npos);
}

}  // namespace
}  // namespace carbonclock
