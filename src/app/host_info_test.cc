#include "app/host_info.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "grid/test_util.h"

namespace carbonclock {
namespace {

namespace fs = std::filesystem;

fs::path write_script(const fs::path& path, const std::string& body) {
  std::ofstream(path) << "#!/bin/sh\n" << body << "\n";
  ::chmod(path.c_str(), 0755);
  return path;
}

TEST(HostInfoTest, CpuModelComesFromCpuinfoOnX86AndArm) {
  EXPECT_EQ(cpu_model_from_cpuinfo("processor\t: 0\nvendor_id\t: GenuineIntel\nmodel\t\t: 85\n"
                                   "model name\t: Intel(R) Xeon(R) Platinum 8259CL CPU @ 2.50GHz\n"
                                   "\nprocessor\t: 1\nmodel name\t: other\n"),
            "Intel(R) Xeon(R) Platinum 8259CL CPU @ 2.50GHz");
  // Arm boards name the machine in "Model" (no "model name" line).
  EXPECT_EQ(cpu_model_from_cpuinfo("processor\t: 0\nBogoMIPS\t: 108.00\n\nModel\t\t: Raspberry "
                                   "Pi 4 Model B Rev 1.4\n"),
            "Raspberry Pi 4 Model B Rev 1.4");
  EXPECT_EQ(cpu_model_from_cpuinfo(""), "");
}

TEST(HostInfoTest, PythonVersionIsParsedFromItsBanner) {
  EXPECT_EQ(python_version_from_output("Python 3.11.2\n"), "3.11.2");
  EXPECT_EQ(python_version_from_output("Python 2.7.18\n"), "2.7.18");
  EXPECT_EQ(python_version_from_output("Python 3.13.0rc1\n"), "3.13.0rc1");
  EXPECT_EQ(python_version_from_output("bash: python3: not found\n"), "");
  EXPECT_EQ(python_version_from_output(""), "");
}

TEST(HostInfoTest, TheJobsOwnPythonIsAskedForItsVersion) {
  testing::TempDir dir;
  fs::create_directories(dir.path() / "bin");
  write_script(dir.path() / "bin" / "python3", "echo 'Python 3.99.1'");
  write_script(dir.path() / "bin" / "python3.7", "echo 'Python 3.7.17'");
  write_script(dir.path() / "bin" / "torchrun", "exit 0");
  const std::string path = (dir.path() / "bin").string() + ":/nonexistent";
  // A python command is its own interpreter; anything else is described by python3 on PATH.
  EXPECT_EQ(job_python({"python3.7", "train.py"}, path), dir.path() / "bin" / "python3.7");
  EXPECT_EQ(job_python({"torchrun", "--nproc-per-node", "4", "train.py"}, path),
            dir.path() / "bin" / "python3");
  EXPECT_EQ(job_python({"sleep", "1"}, "/nonexistent"), fs::path());
  EXPECT_EQ(python_version_of(dir.path() / "bin" / "python3.7"), "3.7.17");
  EXPECT_EQ(python_version_of(job_python({"torchrun"}, path)), "3.99.1");
  // A failing or silent interpreter gives no version rather than a wrong one.
  write_script(dir.path() / "bin" / "python3", "echo 'Python 3.99.1'; exit 1");
  EXPECT_EQ(python_version_of(dir.path() / "bin" / "python3"), "");
  write_script(dir.path() / "bin" / "python3", "exec sleep 30");
  EXPECT_EQ(python_version_of(dir.path() / "bin" / "python3", 200), "");
}

TEST(HostInfoTest, CollectsCpusMemoryOsAndTheCpuModel) {
  testing::TempDir dir;
  std::ofstream(dir.path() / "cpuinfo") << "processor\t: 0\nmodel name\t: Test CPU 9000\n";
  fs::create_directories(dir.path() / "bin");
  write_script(dir.path() / "bin" / "python3", "echo 'Python 3.12.4'");
  const std::string path = (dir.path() / "bin").string();
  auto h = collect_host_info(
      {"./job.sh"},
      [&](const char* name) -> std::optional<std::string> {
        if (std::string(name) == "PATH") return path;
        return std::nullopt;
      },
      dir.path() / "cpuinfo");
  EXPECT_EQ(h.cpu_model, "Test CPU 9000");
  EXPECT_EQ(h.logical_cpus, ::sysconf(_SC_NPROCESSORS_ONLN));
  EXPECT_GT(h.ram_total_gb, 0.0);
  EXPECT_TRUE(h.os.starts_with("Linux-")) << h.os;
  EXPECT_NE(h.os.find("-with-glibc"), std::string::npos) << h.os;
  EXPECT_EQ(h.python_version, "3.12.4");
}

}  // namespace
}  // namespace carbonclock
