// Test support: a fake powercap sysfs tree with settable, wrapping RAPL counters.
#pragma once

#include <filesystem>
#include <fstream>
#include <string>

namespace carbonclock {

class FakeSysfs {
 public:
  explicit FakeSysfs(std::filesystem::path root) : root_(std::move(root)) {
    std::filesystem::remove_all(root_);
    std::filesystem::create_directories(base());
  }
  ~FakeSysfs() {
    std::error_code ec;
    std::filesystem::remove_all(root_, ec);
  }
  FakeSysfs(const FakeSysfs&) = delete;
  FakeSysfs& operator=(const FakeSysfs&) = delete;

  const std::filesystem::path& root() const { return root_; }
  std::filesystem::path base() const { return root_ / "sys/class/powercap"; }

  /// Adds zone "intel-rapl:<zone>" named `name` with counter `energy_uj` and wrap range.
  void add_zone(const std::string& zone, const std::string& name, unsigned long long energy_uj,
                unsigned long long max_range_uj = 262143328850ULL) {
    auto dir = base() / ("intel-rapl:" + zone);
    std::filesystem::create_directories(dir);
    std::ofstream(dir / "name") << name << "\n";
    std::ofstream(dir / "max_energy_range_uj") << max_range_uj << "\n";
    set_energy(zone, energy_uj);
  }
  void set_energy(const std::string& zone, unsigned long long energy_uj) {
    std::ofstream(base() / ("intel-rapl:" + zone) / "energy_uj", std::ios::trunc)
        << energy_uj << "\n";
  }
  std::filesystem::path energy_path(const std::string& zone) const {
    return base() / ("intel-rapl:" + zone) / "energy_uj";
  }

 private:
  std::filesystem::path root_;
};

}  // namespace carbonclock
