// A full disk under the run directory and the store: the real binary on a small tmpfs mounted
// in a private mount namespace (root only: the tests skip, saying why, without it). The
// promise: nothing half-written — the journal holds only whole lines, run.json is either whole
// or absent, no temporary file is left, and what could not be written is said.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "cli/cli_test_harness.h"
#include "common/files.h"

namespace carbonclock {
namespace {

namespace fs = std::filesystem;

class DiskFullTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root to mount a small tmpfs";
    // A mount namespace of this test process alone: the tmpfs is gone when it ends.
    if (::unshare(CLONE_NEWNS) != 0 ||
        ::mount("none", "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
      GTEST_SKIP() << "no private mount namespace: " << std::strerror(errno);
    }
    dir_ = fresh_test_dir("cc_diskfull");
    small_ = dir_ / "small";
    fs::create_directories(small_);
    ASSERT_EQ(::mount("tmpfs", small_.c_str(), "tmpfs", 0, "size=512k"), 0) << std::strerror(errno);
    mounted_ = true;
    cli_ = CliHarness(dir_);
    fs::create_directories(dir_ / "sysfs");
    cli_.env = {{"CARBONCLOCK_DB", (small_ / "carbonclock.db").string()},
                {"CARBONCLOCK_SYSFS_ROOT", (dir_ / "sysfs").string()},
                {"CARBONCLOCK_ZONE", std::nullopt},
                {"CARBONCLOCK_REGION", std::nullopt}};
  }
  void TearDown() override {
    if (mounted_) ::umount2(small_.c_str(), MNT_DETACH);
    if (!dir_.empty()) fs::remove_all(dir_);
  }

  /// `head` filling the tmpfs to its last byte (it fails with ENOSPC, as the job would).
  std::string fill_command() const {
    return fmt::format("head -c 100M /dev/zero > {} 2>/dev/null", (small_ / "fill").string());
  }
  /// Waits until the journal of `run` stops growing although samples keep coming (a flush
  /// failed: the file system is full to the journal's last page), at most a minute.
  std::string wait_for_a_failed_flush(const fs::path& run) const {
    return fmt::format(
        "p=-1; for i in $(seq 24); do s=$(stat -c %s {}); [ \"$s\" = \"$p\" ] && break; p=$s; "
        "sleep 2.5; done",
        (run / "journal.jsonl").string());
  }
  /// Every line of the journal is a whole JSON document ending in a newline.
  void expect_whole_lines(const fs::path& journal, int* samples = nullptr) {
    auto text = read_file(journal);
    ASSERT_TRUE(text) << text.error().message();
    ASSERT_FALSE(text->empty());
    EXPECT_EQ(text->back(), '\n') << "the journal ends inside a line";
    std::istringstream in(*text);
    std::string line;
    int n = 0, s = 0;
    while (std::getline(in, line)) {
      ++n;
      auto j = nlohmann::json::parse(line, nullptr, false);
      EXPECT_FALSE(j.is_discarded()) << journal << ":" << n << ": half a line: " << line;
      if (!j.is_discarded() && j.contains("e")) ++s;
    }
    if (samples != nullptr) *samples = s;
  }
  void expect_no_temporary_files(const fs::path& run_dir) {
    for (const auto& e : fs::directory_iterator(run_dir)) {
      EXPECT_EQ(e.path().filename().string().find(".tmp"), std::string::npos) << e.path();
    }
  }

  fs::path dir_, small_;
  bool mounted_ = false;
  CliHarness cli_{""};
};

TEST_F(DiskFullTest, AFullDiskRefusesTheRunBeforeTheJobStartsAndLeavesNoRunDirectory) {
  ASSERT_NE(std::system(fill_command().c_str()), 0);  // the tmpfs is full
  std::string ran = (dir_ / "ran").string();
  EXPECT_EQ(cli_.run({"run", "--no-gpu", "--out", (small_ / "run").string(), "--", "touch", ran}),
            125);
  EXPECT_NE(cli_.err().find("No space left on device"), std::string::npos) << cli_.err();
  EXPECT_FALSE(fs::exists(small_ / "run"));
  EXPECT_FALSE(fs::exists(ran));
}

TEST_F(DiskFullTest, ADiskThatStaysFullLeavesWholeJournalLinesNoHalfRunJsonAndSaysSo) {
  fs::path run = small_ / "run";
  int rc = cli_.run({"run", "--no-gpu", "--interval", "50ms", "--out", run.string(), "--", "sh",
                     "-c", "sleep 0.5; " + fill_command() + "; " + wait_for_a_failed_flush(run)});
  EXPECT_EQ(rc, 0) << cli_.err();  // the job's own code: a full disk is not the job's failure
  EXPECT_FALSE(fs::exists(run / "run.json"));
  expect_no_temporary_files(run);
  expect_whole_lines(run / "journal.jsonl");
  // Said: the run.json that could not be written, the journal's loss, the history not stored.
  EXPECT_NE(cli_.err().find("run.json"), std::string::npos) << cli_.err();
  EXPECT_NE(cli_.err().find("journal.jsonl: "), std::string::npos) << cli_.err();
  EXPECT_NE(cli_.err().find("No space left on device"), std::string::npos) << cli_.err();

  // With room again, the run is rebuilt from the whole lines, and the store still works.
  fs::remove(small_ / "fill");
  EXPECT_EQ(cli_.run({"report", run.string(), "--format", "json"}), 0) << cli_.err();
  auto doc = nlohmann::json::parse(cli_.out(), nullptr, false);
  ASSERT_FALSE(doc.is_discarded()) << cli_.out();
  EXPECT_EQ(cli_.run({"history"}), 0) << cli_.err();
}

TEST_F(DiskFullTest, ADiskFullForAWhileLosesNoJournalLine) {
  fs::path run = small_ / "run";
  int rc =
      cli_.run({"run", "--no-gpu", "--interval", "50ms", "--out", run.string(), "--", "sh", "-c",
                "sleep 0.5; " + fill_command() + "; " + wait_for_a_failed_flush(run) + "; rm " +
                    (small_ / "fill").string() + "; sleep 1"});
  EXPECT_EQ(rc, 0) << cli_.err();
  int samples = 0;
  expect_whole_lines(run / "journal.jsonl", &samples);
  auto text = read_file(run / "run.json");
  ASSERT_TRUE(text) << cli_.err();
  auto doc = nlohmann::json::parse(*text);
  // The lines that waited for room were written once there was room: every sample is there
  // (all but the reading at the start, taken before the journal exists, at offset 0).
  EXPECT_EQ(samples + 1, doc["overhead"]["samples"].get<int>());
  bool said = false;
  for (const auto& w : doc["warnings"]) {
    said |= w.get<std::string>().find("journal.jsonl: ") != std::string::npos &&
            w.get<std::string>().find("No space left on device") != std::string::npos;
  }
  EXPECT_TRUE(said) << doc["warnings"].dump();
  expect_no_temporary_files(run);
}

}  // namespace
}  // namespace carbonclock
