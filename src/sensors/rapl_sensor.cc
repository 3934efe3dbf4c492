#include "sensors/rapl_sensor.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>

#include "common/files.h"

namespace carbonclock {
namespace {

struct Domain {
  DeviceInfo info;
  std::filesystem::path energy_path;
  int fd = -1;
  double max_range_uj = 0;
  double last_raw_uj = 0;
  double total_j = 0;
  bool failed = false;
};

std::string trimmed_first_line(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::string s;
  std::getline(in, s);
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\r')) s.pop_back();
  return s;
}

// Reads a decimal counter with pread on an already open sysfs file (sysfs regenerates the
// content on each read at offset 0). Returns -1 and sets errno on failure.
double pread_counter(int fd) {
  char buf[32];
  ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
  if (n <= 0) return -1;
  unsigned long long v = 0;
  auto [p, ec] = std::from_chars(buf, buf + n, v);
  if (ec != std::errc()) {
    errno = EINVAL;
    return -1;
  }
  return static_cast<double>(v);
}

class RaplSensor final : public Sensor {
 public:
  explicit RaplSensor(std::vector<Domain> domains) : domains_(std::move(domains)) {
    for (const auto& d : domains_) infos_.push_back(d.info);
  }
  ~RaplSensor() override {
    for (auto& d : domains_) {
      if (d.fd >= 0) ::close(d.fd);
    }
  }
  RaplSensor(const RaplSensor&) = delete;
  RaplSensor& operator=(const RaplSensor&) = delete;

  std::string name() const override { return "rapl"; }
  const std::vector<DeviceInfo>& devices() const override { return infos_; }

  void read(MonoTime /*now*/, std::span<double> energy_j,
            std::vector<std::string>& warnings) override {
    for (size_t i = 0; i < domains_.size(); ++i) {
      Domain& d = domains_[i];
      if (!d.failed) {
        double raw = pread_counter(d.fd);
        if (raw < 0) {
          d.failed = true;
          warnings.push_back(fmt::format("RAPL {}: cannot read {}: {}; its energy stops here",
                                         d.info.id, d.energy_path.string(), errno_text(errno)));
        } else if (first_) {
          d.last_raw_uj = raw;
        } else {
          double delta = raw - d.last_raw_uj;
          if (delta < 0) delta += d.max_range_uj;  // the counter wrapped
          d.total_j += delta * 1e-6;
          d.last_raw_uj = raw;
        }
      }
      energy_j[i] = d.total_j;
    }
    first_ = false;
  }

 private:
  std::vector<Domain> domains_;
  std::vector<DeviceInfo> infos_;
  bool first_ = true;
};

}  // namespace

RaplProbe probe_rapl(const std::filesystem::path& sysfs_root) {
  RaplProbe probe;
  auto base = sysfs_root / "sys/class/powercap";
  std::error_code ec;
  if (!std::filesystem::is_directory(base, ec)) {
    probe.message = fmt::format("no RAPL powercap interface ({} not found)", base.string());
    return probe;
  }
  std::vector<std::filesystem::path> zones;
  for (const auto& e : std::filesystem::directory_iterator(base, ec)) {
    auto name = e.path().filename().string();
    if (name.rfind("intel-rapl:", 0) == 0) zones.push_back(e.path());
  }
  std::sort(zones.begin(), zones.end());

  std::vector<Domain> domains;
  std::vector<std::string> denied;
  for (const auto& zone : zones) {
    // "intel-rapl:P" is package P; "intel-rapl:P:S" is a subdomain of it.
    auto parts = zone.filename().string().substr(std::strlen("intel-rapl:"));
    auto colon = parts.find(':');
    std::string package = parts.substr(0, colon);
    std::string name = trimmed_first_line(zone / "name");
    DeviceInfo info;
    if (colon == std::string::npos && name.rfind("package", 0) == 0) {
      // Use the package number from the name ("package-1") when present: it is the socket.
      auto dash = name.find('-');
      if (dash != std::string::npos) package = name.substr(dash + 1);
      info.id = "cpu" + package + "-package";
      info.kind = DeviceKind::kCpu;
    } else if (colon != std::string::npos && name == "dram") {
      info.id = "cpu" + package + "-dram";
      info.kind = DeviceKind::kDram;
    } else {
      continue;  // core/uncore are parts of the package; psys covers the whole platform
    }
    info.name = "RAPL " + name;
    info.method = Method::kCounter;
    Domain d;
    d.info = info;
    d.energy_path = zone / "energy_uj";
    std::string range = trimmed_first_line(zone / "max_energy_range_uj");
    d.max_range_uj = std::strtod(range.c_str(), nullptr);
    d.fd = ::open(d.energy_path.c_str(), O_RDONLY | O_CLOEXEC);
    if (d.fd < 0 || pread_counter(d.fd) < 0) {
      int err = errno;
      if (d.fd >= 0) ::close(d.fd);
      if (err == EACCES || err == EPERM) {
        denied.push_back(d.energy_path.string());
      } else {
        probe.message += fmt::format("{}: {}; ", d.energy_path.string(), errno_text(err));
      }
      continue;
    }
    if (d.max_range_uj <= 0) {
      ::close(d.fd);
      probe.message += fmt::format("{}: missing max_energy_range_uj; ", zone.string());
      continue;
    }
    probe.has_package |= info.kind == DeviceKind::kCpu;
    probe.has_dram |= info.kind == DeviceKind::kDram;
    domains.push_back(std::move(d));
  }
  if (!denied.empty()) {
    probe.message = fmt::format(
        "RAPL energy counters are not readable ({}: permission denied). Since Linux 5.10 they "
        "are root-only; run as root, or allow reading with: sudo chmod a+r "
        "/sys/class/powercap/intel-rapl:*/energy_uj /sys/class/powercap/intel-rapl:*/*/energy_uj",
        denied.front());
    for (auto& d : domains) ::close(d.fd);
    probe.has_package = probe.has_dram = false;
    return probe;
  }
  if (domains.empty()) {
    if (probe.message.empty()) probe.message = "no RAPL package or dram domain found";
    return probe;
  }
  probe.sensor = std::make_unique<RaplSensor>(std::move(domains));
  return probe;
}

}  // namespace carbonclock
