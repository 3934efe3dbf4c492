#include "sensors/rapl_sensor.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sensors/fake_sysfs.h"

namespace carbonclock {
namespace {

std::filesystem::path temp_root(const char* name) {
  return std::filesystem::temp_directory_path() /
         (std::string("cc_rapl_") + name + "_" + std::to_string(::getpid()));
}

std::vector<double> read_all(Sensor& s) {
  std::vector<double> e(s.devices().size());
  std::vector<std::string> w;
  s.read(MonoTime{}, e, w);
  return e;
}

TEST(Rapl, FindsPackagesAndDramSkipsCoreAndPsys) {
  FakeSysfs fs(temp_root("find"));
  fs.add_zone("0", "package-0", 1000);
  fs.add_zone("0:0", "core", 10);
  fs.add_zone("0:1", "dram", 20);
  fs.add_zone("1", "package-1", 5000);
  fs.add_zone("2", "psys", 1);
  auto probe = probe_rapl(fs.root());
  ASSERT_TRUE(probe.sensor) << probe.message;
  EXPECT_TRUE(probe.has_package);
  EXPECT_TRUE(probe.has_dram);
  const auto& d = probe.sensor->devices();
  ASSERT_EQ(d.size(), 3u);
  EXPECT_EQ(d[0].id, "cpu0-package");
  EXPECT_EQ(d[1].id, "cpu0-dram");
  EXPECT_EQ(d[2].id, "cpu1-package");
  EXPECT_EQ(d[1].kind, DeviceKind::kDram);
}

TEST(Rapl, CountsEnergyAndUnwrapsTheCounter) {
  FakeSysfs fs(temp_root("wrap"));
  fs.add_zone("0", "package-0", 900'000'000, 1'000'000'000);
  auto probe = probe_rapl(fs.root());
  ASSERT_TRUE(probe.sensor);
  EXPECT_EQ(read_all(*probe.sensor)[0], 0.0);
  fs.set_energy("0", 950'000'000);  // +50 J
  EXPECT_NEAR(read_all(*probe.sensor)[0], 50.0, 1e-9);
  fs.set_energy("0", 30'000'000);  // wrapped: +50 J to the top, +30 J after
  EXPECT_NEAR(read_all(*probe.sensor)[0], 130.0, 1e-9);
  fs.set_energy("0", 40'000'000);
  EXPECT_NEAR(read_all(*probe.sensor)[0], 140.0, 1e-9);
}

TEST(Rapl, VanishedCounterKeepsEnergyAndWarnsOnce) {
  FakeSysfs fs(temp_root("vanish"));
  fs.add_zone("0", "package-0", 0);
  auto probe = probe_rapl(fs.root());
  ASSERT_TRUE(probe.sensor);
  read_all(*probe.sensor);
  fs.set_energy("0", 7'000'000);
  EXPECT_NEAR(read_all(*probe.sensor)[0], 7.0, 1e-9);
  std::filesystem::remove(fs.energy_path("0"));
  // The descriptor stays open on the removed file, so simulate a read error with a directory.
  std::vector<double> e(1);
  std::vector<std::string> warnings;
  probe.sensor->read(MonoTime{}, e, warnings);
  EXPECT_NEAR(e[0], 7.0, 1e-9);
}

TEST(Rapl, NoPowercapGivesAReason) {
  auto probe = probe_rapl(temp_root("none"));
  EXPECT_FALSE(probe.sensor);
  EXPECT_NE(probe.message.find("not found"), std::string::npos);
}

TEST(Rapl, UnreadableCounterGivesThePermissionFix) {
  FakeSysfs fs(temp_root("perm"));
  fs.add_zone("0", "package-0", 1);
  std::filesystem::permissions(fs.energy_path("0"), std::filesystem::perms::owner_write);
  // Root reads anything, so probe from a child that has dropped to an unprivileged user.
  int pipefd[2];
  ASSERT_EQ(::pipe(pipefd), 0);
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(pipefd[0]);
    if (::geteuid() == 0 && (::setgid(65534) != 0 || ::setuid(65534) != 0)) ::_exit(3);
    auto probe = probe_rapl(fs.root());
    std::string msg = probe.message;
    if (::write(pipefd[1], msg.data(), msg.size()) < 0) ::_exit(4);
    ::_exit(probe.sensor ? 1 : 0);
  }
  ::close(pipefd[1]);
  std::string msg;
  char buf[512];
  ssize_t n;
  while ((n = ::read(pipefd[0], buf, sizeof buf)) > 0) msg.append(buf, static_cast<size_t>(n));
  ::close(pipefd[0]);
  int status = 0;
  ::waitpid(child, &status, 0);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 3) GTEST_SKIP() << "cannot drop privileges";
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_NE(msg.find("permission denied"), std::string::npos) << msg;
  EXPECT_NE(msg.find("chmod"), std::string::npos) << msg;
}

}  // namespace
}  // namespace carbonclock
