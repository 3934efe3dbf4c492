#include "metering/run_record.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>

#include "common/files.h"
#include "common/json_text.h"
#include "metering/journal.h"
#include "metering/test_support.h"

namespace carbonclock {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using ::testing::HasSubstr;

class RunRecordTest : public testing::RunDirTest {
 protected:
  RunRecordTest() : RunDirTest("cc_run_record") {}
  void SetUp() override {
    RunDirTest::SetUp();
    record().end_utc = record().start_utc + 400s;
    record().exit_code = 0;
    TimelineBuilder b(record().start_utc, 5min, record().timeline.devices);
    b.add(0s, std::vector<double>{0, 0});
    b.add(400s, std::vector<double>{4000, 400});
    record().timeline = b.timeline();
  }
  // run.json of record() with `patch` applied (a JSON merge patch, RFC 7396), then loaded.
  Result<RunRecord> load_patched(const json& patch) {
    json doc = run_to_json(record());
    doc.merge_patch(patch);
    EXPECT_TRUE(write_file_atomic(dir() / kRunFile, dump_json(doc, 2)).ok());
    return load_run(dir());
  }
};

// --- Bytes that are not UTF-8 (issue 15, item 2) ------------------------------------------

void use_invalid_utf8(RunRecord& run) {
  run.command = {"echo", "marker\xe9", "lit\\x41"};
  run.scheduler = {{"SLURM_JOB_NAME", "r\xe9sum\xe9"}};
  run.tags = {"\xff"};
  run.host = "host\xfe";
  run.zone = "evil\xe9zone";
  run.timeline.devices[0].name = "GPU \xc0";
  run.warnings = {"warn \xe9"};
}

TEST_F(RunRecordTest, RunJsonCarriesBytesThatAreNotUtf8Losslessly) {
  use_invalid_utf8(record());
  // save_run threw nlohmann's type_error 316 (invalid UTF-8) here.
  ASSERT_TRUE(save_run(record(), dir()).ok());
  std::string text = read_file(dir() / kRunFile).value();
  EXPECT_TRUE(is_valid_utf8(text));
  EXPECT_THAT(text, HasSubstr(R"("marker\\xe9")"));
  EXPECT_TRUE(json::accept(text));
  auto back = load_run(dir());
  ASSERT_TRUE(back.ok()) << back.error().message();
  EXPECT_EQ(back->command, record().command);
  EXPECT_EQ(back->scheduler, record().scheduler);
  EXPECT_EQ(back->tags, record().tags);
  EXPECT_EQ(back->host, record().host);
  EXPECT_EQ(back->zone, record().zone);
  EXPECT_EQ(back->timeline.devices[0].name, "GPU \xc0");
  EXPECT_EQ(back->warnings, record().warnings);
}

TEST_F(RunRecordTest, JournalCarriesBytesThatAreNotUtf8Losslessly) {
  use_invalid_utf8(record());
  {
    // JournalWriter::create threw before the job started: `run` exited 134, journal empty.
    auto w = JournalWriter::create(dir(), record());
    ASSERT_TRUE(w.ok()) << w.error().message();
    (*w)->sample(0s, std::vector<double>{0, 0});
    (*w)->warning(1s, "device \xe9 vanished");
    (*w)->sample(2s, std::vector<double>{20, 2});
    ASSERT_TRUE((*w)->flush().ok());
  }
  EXPECT_TRUE(is_valid_utf8(read_file(dir() / kJournalFile).value()));
  auto back = load_run(dir());
  ASSERT_TRUE(back.ok()) << back.error().message();
  EXPECT_TRUE(back->recovered);
  EXPECT_EQ(back->command, record().command);
  EXPECT_EQ(back->scheduler, record().scheduler);
  EXPECT_EQ(back->tags, record().tags);
  EXPECT_EQ(back->host, record().host);
  EXPECT_EQ(back->zone, record().zone);
  EXPECT_EQ(back->warnings[1], "device \xe9 vanished");
  EXPECT_NEAR(back->timeline.total_j(), 22, 1e-9);
}

// --- Tampered run.json (issue 15, item 12) ------------------------------------------------

struct TamperCase {
  const char* name;
  const char* patch;
  const char* expected;
};

class TamperedRunJson : public RunRecordTest, public ::testing::WithParamInterface<TamperCase> {};

TEST_P(TamperedRunJson, IsAnErrorNamingFileAndField) {
  auto r = load_patched(json::parse(GetParam().patch));
  ASSERT_FALSE(r.ok()) << GetParam().name;
  EXPECT_THAT(r.error().message(), HasSubstr((dir() / kRunFile).string() + ": "));
  EXPECT_THAT(r.error().message(), HasSubstr(GetParam().expected));
}

// Patches replace whole arrays, so timeline patches give both buckets.
#define BUCKETS(first, second)                                                      \
  R"({"timeline":[{"bucket_start_utc":"2024-01-01T00:00:00Z","active_s":60,)" first \
  R"(},{"bucket_start_utc":"2024-01-01T00:05:00Z","bucket_s":300,"active_s":300,)" second "}]}"
#define GOOD_ENERGY R"("energy_j":{"gpu0":600,"cpu-estimate":60})"

INSTANTIATE_TEST_SUITE_P(
    Cases, TamperedRunJson,
    ::testing::Values(
        // SIGFPE in `report`.
        TamperCase{"bucket_zero", BUCKETS(R"("bucket_s":0,)" GOOD_ENERGY, GOOD_ENERGY),
                   "timeline[0].bucket_s: 0 is out of range (must be from 1 to 86400)"},
        // Hung.
        TamperCase{"bucket_huge", BUCKETS(R"("bucket_s":1e300,)" GOOD_ENERGY, GOOD_ENERGY),
                   "timeline[0].bucket_s: 1e+300 is out of range"},
        // -102,482 kWh.
        TamperCase{"bucket_negative", BUCKETS(R"("bucket_s":-300,)" GOOD_ENERGY, GOOD_ENERGY),
                   "timeline[0].bucket_s: -300 is out of range"},
        TamperCase{"bucket_not_dividing_a_day",
                   BUCKETS(R"("bucket_s":7,)" GOOD_ENERGY, GOOD_ENERGY),
                   "timeline[0].bucket_s: 7 s does not divide a day evenly"},
        TamperCase{
            "buckets_of_two_lengths",
            R"({"timeline":[{"bucket_start_utc":"2024-01-01T00:00:00Z","bucket_s":300,)" GOOD_ENERGY
            R"(},{"bucket_start_utc":"2024-01-01T00:05:00Z","bucket_s":60,)" GOOD_ENERGY "}]}",
            "timeline[1].bucket_s: differs from the first bucket's"},
        TamperCase{
            "bucket_hole",
            R"({"timeline":[{"bucket_start_utc":"2024-01-01T00:00:00Z","bucket_s":300,)" GOOD_ENERGY
            R"(},{"bucket_start_utc":"2024-01-01T00:15:00Z","bucket_s":300,)" GOOD_ENERGY "}]}",
            "timeline[1].bucket_start_utc: does not follow the previous bucket"},
        // Negative emissions.
        TamperCase{
            "negative_energy",
            BUCKETS(R"("bucket_s":300,"energy_j":{"gpu0":-600,"cpu-estimate":60})", GOOD_ENERGY),
            "timeline[0].energy_j.gpu0: -600 is out of range"},
        TamperCase{"null_energy",  // what nlohmann writes for inf and NaN
                   BUCKETS(R"("bucket_s":300,"energy_j":{"gpu0":600,"cpu-estimate":60})",
                           R"("energy_j":{"gpu0":"inf","cpu-estimate":60})"),
                   "timeline[1].energy_j.gpu0: not a number (string)"},
        TamperCase{"active_beyond_bucket",
                   R"({"timeline":[{"bucket_start_utc":"2024-01-01T00:00:00Z","bucket_s":300,)"
                   R"("active_s":301,)" GOOD_ENERGY "}]}",
                   "timeline[0].active_s: 301 is out of range"},
        TamperCase{"exit_code_huge", R"({"exit_code":1e300})",
                   "exit_code: not an integer (1e+300)"},
        TamperCase{"exit_code_negative", R"({"exit_code":-1})", "exit_code: -1 is out of range"},
        TamperCase{"pue_below_one", R"({"pue":0.5})", "pue: 0.5 is out of range"},
        TamperCase{"work_zero", R"({"work":0})", "work: must be > 0"},
        TamperCase{"start_2300", R"({"start_utc":"2300-01-01T00:00:00.000Z"})",
                   "start_utc: cannot parse time"},
        TamperCase{"end_before_start", R"({"end_utc":"2023-01-01T00:00:00.000Z"})",
                   "end_utc: before start_utc"},
        TamperCase{"negative_overhead", R"({"overhead":{"cpu_s":-1}})",
                   "overhead.cpu_s: -1 is out of range"},
        TamperCase{"device_twice",
                   R"({"devices":[{"id":"gpu0","kind":"gpu","method":"counter"},)"
                   R"({"id":"gpu0","kind":"gpu","method":"counter"}]})",
                   "devices[1].id: 'gpu0' twice"},
        TamperCase{"device_kind_unknown",
                   R"({"devices":[{"id":"gpu0","kind":"tpu","method":"counter"}]})",
                   "devices[0].kind: unknown device kind 'tpu'"},
        TamperCase{"command_not_strings", R"({"command":["a",1]})",
                   "command[1]: not a string (number)"},
        TamperCase{"schema_version_fraction", R"({"schema_version":0.5})",
                   "schema_version: not an integer"},
        TamperCase{"pue_not_a_number", R"({"pue":"1.2"})", "pue: not a number (string)"}),
    [](const auto& param_info) { return std::string(param_info.param.name); });

TEST_F(RunRecordTest, NumbersBeyondADoubleAreReportedAsDamage) {
  ASSERT_TRUE(save_run(record(), dir()).ok());
  std::string text = read_file(dir() / kRunFile).value();
  text.replace(text.find("\"energy_j_total\""), 16, "\"x\":1e999,\"energy_j_total\"");
  ASSERT_TRUE(write_file_atomic(dir() / kRunFile, text).ok());
  auto r = load_run(dir());
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.error().message(), HasSubstr("number overflow"));
  EXPECT_THAT(r.error().message(), HasSubstr("damaged"));
}

TEST_F(RunRecordTest, UntamperedRunJsonStillLoads) {
  ASSERT_TRUE(save_run(record(), dir()).ok());
  auto r = load_run(dir());
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(run_to_json(*r), run_to_json(record()));
}

TEST_F(RunRecordTest, FractionalBucketsReadBackAlthoughStartsAreWrittenToTheSecond) {
  // `run --bucket 1.5s` is allowed; bucket_start_utc is written without its half second.
  record().timeline = {};
  record().timeline.devices = {{"gpu0", DeviceKind::kGpu, "A100", Method::kCounter, "", ""}};
  TimelineBuilder b(record().start_utc, 1500ms, record().timeline.devices);
  b.add(0s, std::vector<double>{0});
  b.add(5s, std::vector<double>{50});
  record().timeline = b.timeline();
  record().end_utc = record().start_utc + 5s;
  ASSERT_EQ(record().timeline.buckets.size(), 4u);
  ASSERT_TRUE(save_run(record(), dir()).ok());
  auto back = load_run(dir());
  ASSERT_TRUE(back.ok()) << back.error().message();
  ASSERT_EQ(back->timeline.buckets.size(), 4u);
  EXPECT_EQ(back->timeline.buckets[1].start_utc, record().timeline.buckets[1].start_utc);
  EXPECT_EQ(run_to_json(*back), run_to_json(record()));
}

// --- Tampered journal (issue 15, item 12) -------------------------------------------------

class TamperedJournal : public RunRecordTest, public ::testing::WithParamInterface<TamperCase> {};

// `patch` is merged into the header when it has "header", else appended as a sample line.
TEST_P(TamperedJournal, IsAnErrorNamingFileLineAndField) {
  {
    auto w = JournalWriter::create(dir(), record());
    ASSERT_TRUE(w.ok());
    (*w)->sample(0s, std::vector<double>{0, 0});
    ASSERT_TRUE((*w)->flush().ok());
  }
  std::string text = read_file(dir() / kJournalFile).value();
  json patch = json::parse(GetParam().patch);
  if (patch.contains("header")) {
    size_t nl = text.find('\n');
    json header = json::parse(text.substr(0, nl));
    header.merge_patch(patch["header"]);
    text = header.dump() + text.substr(nl);
  } else {
    text += patch.dump() + "\n";
  }
  text += R"({"t":9.0,"e":[1,1]})"
          "\n";  // the tampered line is not the (torn) last one
  ASSERT_TRUE(write_file_atomic(dir() / kJournalFile, text).ok());
  auto r = load_run(dir());
  ASSERT_FALSE(r.ok()) << GetParam().name;
  EXPECT_THAT(r.error().message(), HasSubstr((dir() / kJournalFile).string() + ":"));
  EXPECT_THAT(r.error().message(), HasSubstr(GetParam().expected));
}

INSTANTIATE_TEST_SUITE_P(
    Cases, TamperedJournal,
    ::testing::Values(
        TamperCase{"bucket_zero", R"({"header":{"bucket_s":0}})",
                   "journal.jsonl:1: bucket_s: 0 is out of range"},
        TamperCase{"bucket_huge", R"({"header":{"bucket_s":1e300}})",
                   "journal.jsonl:1: bucket_s: 1e+300 is out of range"},
        TamperCase{"start_far_future", R"({"header":{"start_unix_ns":9223372036854775807}})",
                   "journal.jsonl:1: start_unix_ns: 9223372036854775807 is out of range"},
        TamperCase{"start_fraction", R"({"header":{"start_unix_ns":1.5e18}})",
                   "journal.jsonl:1: start_unix_ns: not an integer"},
        TamperCase{"pue_huge", R"({"header":{"pue":1e300}})", "journal.jsonl:1: pue: 1e+300"},
        TamperCase{"negative_energy", R"({"t":1.0,"e":[-5,1]})",
                   "journal.jsonl:3: e[0]: -5 is out of range"},
        TamperCase{"energy_not_a_number", R"({"t":1.0,"e":[1,"x"]})",
                   "journal.jsonl:3: e[1]: not a number (string)"},
        TamperCase{"offset_huge", R"({"t":1e300,"e":[1,1]})",
                   "journal.jsonl:3: t: 1e+300 is out of range"},
        TamperCase{"offset_negative", R"({"t":-300,"e":[1,1]})",
                   "journal.jsonl:3: t: -300 is out of range"},
        TamperCase{"end_exit_code", R"({"type":"end","t":1.0,"exit_code":4096,"overhead":{}})",
                   "journal.jsonl:3: exit_code: 4096 is out of range"},
        TamperCase{"damaged_line", R"(["not", "an", "object"])",
                   "journal.jsonl:3: damaged journal line"}),
    [](const auto& param_info) { return std::string(param_info.param.name); });

}  // namespace
}  // namespace carbonclock
