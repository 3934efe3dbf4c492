#include "fake_nvml_script.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace fake_nvml {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

// The whole of `text` as a finite double, or nullopt.
std::optional<double> parse_number(std::string_view text) {
  std::string s(trim(text));
  if (s.empty()) return std::nullopt;
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (end != s.c_str() + s.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    size_t end = s.find(sep, start);
    if (end == std::string_view::npos) {
      out.push_back(s.substr(start));
      return out;
    }
    out.push_back(s.substr(start, end - start));
    start = end + 1;
  }
}

std::vector<std::string_view> words(std::string_view s) {
  std::vector<std::string_view> out;
  for (std::string_view w : split(s, ' ')) {
    if (!trim(w).empty()) out.push_back(trim(w));
  }
  return out;
}

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
long long days_from_civil(long long y, unsigned m, unsigned d) {
  y -= m <= 2;
  const long long era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<long long>(doe) - 719468;
}

}  // namespace

PowerModel PowerModel::constant(double power_w) { return steps({0.0}, {power_w}); }

PowerModel PowerModel::steps(std::vector<double> t_s, std::vector<double> power_w) {
  PowerModel m;
  m.t_s_ = std::move(t_s);
  m.power_w_ = std::move(power_w);
  m.cumulative_j_.assign(m.t_s_.size(), 0.0);
  for (size_t i = 1; i < m.t_s_.size(); ++i) {
    m.cumulative_j_[i] = m.cumulative_j_[i - 1] + m.power_w_[i - 1] * (m.t_s_[i] - m.t_s_[i - 1]);
  }
  return m;
}

PowerModel PowerModel::trace(std::vector<double> t_s, std::vector<double> power_w, double offset_s,
                             double speed) {
  PowerModel m;
  m.linear_ = true;
  m.t_s_ = std::move(t_s);
  m.power_w_ = std::move(power_w);
  m.offset_s_ = offset_s;
  m.speed_ = speed;
  m.cumulative_j_.assign(m.t_s_.size(), 0.0);
  for (size_t i = 1; i < m.t_s_.size(); ++i) {
    m.cumulative_j_[i] = m.cumulative_j_[i - 1] +
                         0.5 * (m.power_w_[i - 1] + m.power_w_[i]) * (m.t_s_[i] - m.t_s_[i - 1]);
  }
  return m;
}

double PowerModel::power_w(double t_s) const { return curve_w(offset_s_ + speed_ * t_s); }

double PowerModel::curve_w(double u) const {
  auto it = std::upper_bound(t_s_.begin(), t_s_.end(), u);
  if (it == t_s_.begin()) return power_w_.front();
  const size_t i = static_cast<size_t>(it - t_s_.begin()) - 1;
  if (!linear_ || i + 1 == t_s_.size()) return power_w_[i];
  const double f = (u - t_s_[i]) / (t_s_[i + 1] - t_s_[i]);
  return power_w_[i] + f * (power_w_[i + 1] - power_w_[i]);
}

double PowerModel::integral_to(double u) const {
  auto it = std::upper_bound(t_s_.begin(), t_s_.end(), u);
  if (it == t_s_.begin()) return power_w_.front() * (u - t_s_.front());
  const size_t i = static_cast<size_t>(it - t_s_.begin()) - 1;
  const double segment =
      linear_ ? 0.5 * (power_w_[i] + curve_w(u)) * (u - t_s_[i]) : power_w_[i] * (u - t_s_[i]);
  return cumulative_j_[i] + segment;
}

double PowerModel::energy_j(double t_s) const {
  // A trace played `speed` times faster delivers its energy in 1/speed of the time.
  return (integral_to(offset_s_ + speed_ * t_s) - integral_to(offset_s_)) / speed_;
}

std::optional<double> parse_smi_timestamp(std::string_view text) {
  text = trim(text);
  // YYYY/MM/DD HH:MM:SS[.fff]
  if (text.size() < 19 || (text[4] != '/' && text[4] != '-') || text[7] != text[4] ||
      text[10] != ' ' || text[13] != ':' || text[16] != ':') {
    return std::nullopt;
  }
  auto field = [&](size_t pos, size_t len) -> std::optional<int> {
    int v = 0;
    for (size_t i = pos; i < pos + len; ++i) {
      if (text[i] < '0' || text[i] > '9') return std::nullopt;
      v = v * 10 + (text[i] - '0');
    }
    return v;
  };
  auto year = field(0, 4), month = field(5, 2), day = field(8, 2);
  auto hour = field(11, 2), minute = field(14, 2);
  auto seconds = parse_number(text.substr(17));
  if (!year || !month || !day || !hour || !minute || !seconds || *month < 1 || *month > 12 ||
      *day < 1 || *day > 31 || *hour > 23 || *minute > 59 || *seconds < 0 || *seconds >= 61) {
    return std::nullopt;
  }
  const long long days =
      days_from_civil(*year, static_cast<unsigned>(*month), static_cast<unsigned>(*day));
  return static_cast<double>(days) * 86400.0 + *hour * 3600.0 + *minute * 60.0 + *seconds;
}

std::optional<TraceColumn> parse_nvidia_smi_trace(const std::string& path, int gpu, int gpus,
                                                  std::string& error) {
  std::ifstream in(path);
  if (!in) {
    error = path + ": cannot open";
    return std::nullopt;
  }
  if (gpus < 1 || gpu < 0 || gpu >= gpus) {
    error = path + ": gpu " + std::to_string(gpu) + " of " + std::to_string(gpus) + " is invalid";
    return std::nullopt;
  }
  std::string line;
  if (!std::getline(in, line)) {
    error = path + ": empty file";
    return std::nullopt;
  }
  const auto header = split(line, ',');
  size_t time_col = header.size(), power_col = header.size();
  for (size_t i = 0; i < header.size(); ++i) {
    const std::string_view name = trim(header[i]);
    if (name == "timestamp") time_col = i;
    if (name.starts_with("power.draw")) power_col = i;
  }
  if (time_col == header.size() || power_col == header.size()) {
    error = path + ":1: header lacks timestamp or power.draw";
    return std::nullopt;
  }
  TraceColumn out;
  std::optional<double> first_s;
  long long row = -1;
  int line_no = 1;
  while (std::getline(in, line)) {
    ++line_no;
    if (trim(line).empty()) continue;
    ++row;
    if (row % gpus != gpu) continue;
    const auto cells = split(line, ',');
    const std::string where = path + ":" + std::to_string(line_no) + ": ";
    if (cells.size() <= std::max(time_col, power_col)) {
      error = where + "too few columns";
      return std::nullopt;
    }
    auto t = parse_smi_timestamp(cells[time_col]);
    if (!t) {
      error = where + "bad timestamp '" + std::string(trim(cells[time_col])) + "'";
      return std::nullopt;
    }
    std::string_view value = trim(cells[power_col]);
    if (value.ends_with("W")) value = trim(value.substr(0, value.size() - 1));
    auto power = parse_number(value);
    if (!power) continue;  // "[N/A]", "[Not Supported]": no sample
    if (!first_s) first_s = *t;
    const double rel_s = *t - *first_s;
    if (!out.t_s.empty() && rel_s <= out.t_s.back()) {
      error = where + "time does not advance for gpu " + std::to_string(gpu);
      return std::nullopt;
    }
    out.t_s.push_back(rel_s);
    out.power_w.push_back(*power);
  }
  if (out.t_s.empty()) {
    error = path + ": no power samples for gpu " + std::to_string(gpu);
    return std::nullopt;
  }
  return out;
}

std::optional<Script> parse_script(std::string_view text, const std::string& base_dir,
                                   std::string& error) {
  Script script;
  int line_no = 0;
  for (std::string_view raw : split(text, '\n')) {
    ++line_no;
    const std::string where = "script:" + std::to_string(line_no) + ": ";
    std::string_view line = raw.substr(0, raw.find('#'));
    line = trim(line);
    if (line.empty()) continue;
    const size_t space = line.find(' ');
    const std::string_view key = line.substr(0, space);
    const std::string_view rest = space == std::string_view::npos ? "" : trim(line.substr(space));
    auto fail = [&](const std::string& why) {
      error = where + why;
      return std::nullopt;
    };
    if (key == "init_error") {
      auto code = parse_number(rest);
      if (!code) return fail("init_error needs a number");
      script.init_error = static_cast<int>(*code);
      continue;
    }
    if (key == "gpu") {
      GpuScript gpu;
      char uuid[64];
      std::snprintf(uuid, sizeof uuid, "GPU-00000000-0000-0000-0000-%012zu", script.gpus.size());
      gpu.uuid = uuid;
      script.gpus.push_back(std::move(gpu));
      continue;
    }
    if (script.gpus.empty()) return fail("'" + std::string(key) + "' before the first 'gpu'");
    GpuScript& gpu = script.gpus.back();
    if (key == "name") {
      gpu.name = rest;
    } else if (key == "uuid") {
      gpu.uuid = rest;
    } else if (key == "energy_counter") {
      if (rest != "yes" && rest != "no") return fail("energy_counter is yes or no");
      gpu.energy_counter = rest == "yes";
    } else if (key == "power") {
      auto w = parse_number(rest);
      if (!w || *w < 0) return fail("power needs watts >= 0");
      gpu.power = PowerModel::constant(*w);
    } else if (key == "power_steps") {
      std::vector<double> t_s, power_w;
      for (std::string_view step : words(rest)) {
        const size_t colon = step.find(':');
        auto t = parse_number(step.substr(0, colon));
        auto w =
            colon == std::string_view::npos ? std::nullopt : parse_number(step.substr(colon + 1));
        if (!t || !w || *w < 0 || (!t_s.empty() && *t <= t_s.back())) {
          return fail("power_steps needs increasing SECONDS:WATTS pairs");
        }
        t_s.push_back(*t);
        power_w.push_back(*w);
      }
      if (t_s.empty()) return fail("power_steps needs at least one SECONDS:WATTS pair");
      gpu.power = PowerModel::steps(std::move(t_s), std::move(power_w));
    } else if (key == "power_trace") {
      const auto args = words(rest);
      if (args.empty()) return fail("power_trace needs a file");
      std::string path(args[0]);
      if (!path.starts_with("/")) path = base_dir + "/" + path;
      double column = 0, gpus = 1, offset_s = 0, speed = 1;
      for (size_t i = 1; i < args.size(); ++i) {
        const size_t eq = args[i].find('=');
        const std::string_view name = args[i].substr(0, eq);
        auto value =
            eq == std::string_view::npos ? std::nullopt : parse_number(args[i].substr(eq + 1));
        if (!value) return fail("power_trace option '" + std::string(args[i]) + "' needs =NUMBER");
        if (name == "gpu")
          column = *value;
        else if (name == "gpus")
          gpus = *value;
        else if (name == "offset")
          offset_s = *value;
        else if (name == "speed")
          speed = *value;
        else
          return fail("unknown power_trace option '" + std::string(name) + "'");
      }
      if (speed <= 0) return fail("power_trace speed must be > 0");
      std::string trace_error;
      auto trace = parse_nvidia_smi_trace(path, static_cast<int>(column), static_cast<int>(gpus),
                                          trace_error);
      if (!trace) return fail(trace_error);
      gpu.power =
          PowerModel::trace(std::move(trace->t_s), std::move(trace->power_w), offset_s, speed);
    } else if (key == "vanish_after") {
      auto s = parse_number(rest);
      if (!s || *s < 0) return fail("vanish_after needs seconds >= 0");
      gpu.vanish_after_s = *s;
    } else if (key == "mig") {
      auto n = parse_number(rest);
      if (!n || *n < 1 || *n > 7) return fail("mig needs a device count 1..7");
      gpu.mig_devices = static_cast<unsigned>(*n);
    } else if (key == "vanish_during") {
      const auto args = words(rest);
      auto from = args.size() == 2 ? parse_number(args[0]) : std::nullopt;
      auto to = args.size() == 2 ? parse_number(args[1]) : std::nullopt;
      if (!from || !to || *from < 0 || *to <= *from) {
        return fail("vanish_during needs START END seconds with 0 <= START < END");
      }
      gpu.lost_s.emplace_back(*from, *to);
    } else if (key == "process_comm") {
      const auto args = words(rest);
      if (args.empty()) return fail("process_comm needs a name");
      ProcessRule rule{std::string(args[0]), std::nullopt};
      for (size_t i = 1; i < args.size(); ++i) {
        auto util = args[i].starts_with("sm=") ? parse_number(args[i].substr(3)) : std::nullopt;
        if (!util || *util < 0 || *util > 100) {
          return fail("process_comm option '" + std::string(args[i]) +
                      "': use sm=PERCENT (0..100)");
        }
        rule.sm_util_pct = *util;
      }
      gpu.processes.push_back(std::move(rule));
    } else {
      return fail("unknown key '" + std::string(key) + "'");
    }
  }
  return script;
}

bool GpuScript::lost_at(double t_s) const {
  if (vanish_after_s && t_s >= *vanish_after_s) return true;
  for (const auto& [from, to] : lost_s) {
    if (t_s >= from && t_s < to) return true;
  }
  return false;
}

std::optional<Script> load_script(const std::string& path, std::string& error) {
  std::ifstream in(path);
  if (!in) {
    error = path + ": cannot open";
    return std::nullopt;
  }
  std::stringstream text;
  text << in.rdbuf();
  const size_t slash = path.rfind('/');
  const std::string base_dir = slash == std::string::npos ? "." : path.substr(0, slash);
  auto script = parse_script(text.str(), base_dir, error);
  if (!script) error = path + ": " + error;
  return script;
}

}  // namespace fake_nvml
