#include "compare.h"

#include <fmt/format.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>

namespace carbonclock::bench {
namespace {

double cpu_now() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

double wall_now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

template <typename F>
double median_of(const std::vector<Sample>& samples, F field) {
  std::vector<double> v;
  v.reserve(samples.size());
  for (const Sample& s : samples) v.push_back(field(s));
  return median(v);
}

}  // namespace

double thread_cpu_s() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

Sample measure(const std::function<void()>& f) {
  const double c0 = cpu_now(), w0 = wall_now();
  f();
  return {cpu_now() - c0, wall_now() - w0};
}

double median(std::vector<double> values) {
  if (values.empty()) return NAN;
  std::sort(values.begin(), values.end());
  const size_t m = values.size() / 2;
  return values.size() % 2 ? values[m] : (values[m - 1] + values[m]) / 2;
}

Paired interleave(int reps, const std::function<void()>& baseline,
                  const std::function<void()>& carbonclock) {
  Paired p;
  for (int i = 0; i < reps; ++i) {
    p.baseline.push_back(measure(baseline));
    p.carbonclock.push_back(measure(carbonclock));
  }
  return p;
}

double Paired::median_cpu_baseline() const {
  return median_of(baseline, [](const Sample& s) { return s.cpu_s; });
}
double Paired::median_cpu_carbonclock() const {
  return median_of(carbonclock, [](const Sample& s) { return s.cpu_s; });
}
double Paired::median_wall_baseline() const {
  return median_of(baseline, [](const Sample& s) { return s.wall_s; });
}
double Paired::median_wall_carbonclock() const {
  return median_of(carbonclock, [](const Sample& s) { return s.wall_s; });
}
double Paired::median_cpu_ratio() const {
  std::vector<double> r;
  for (size_t i = 0; i < baseline.size() && i < carbonclock.size(); ++i) {
    r.push_back(carbonclock[i].cpu_s / baseline[i].cpu_s);
  }
  return median(r);
}

std::string number(double v, int precision) {
  if (!std::isfinite(v)) return "–";
  std::string digits = fmt::format("{:.{}f}", std::fabs(v), precision);
  size_t point = digits.find('.');
  if (point == std::string::npos) point = digits.size();
  std::string out;
  for (size_t i = 0; i < point; ++i) {
    if (i > 0 && (point - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  out += digits.substr(point);
  return (v < 0 ? "-" : "") + out;
}

Table::Table(std::string title, std::string baseline_name, std::string ratio_of)
    : title_(std::move(title)),
      baseline_name_(std::move(baseline_name)),
      ratio_of_(std::move(ratio_of)) {}

void Table::row(const std::string& what, double baseline, double carbonclock, int precision) {
  row_ratio(what, baseline, carbonclock, carbonclock / baseline, precision);
}

void Table::row_ratio(const std::string& what, double baseline, double carbonclock, double ratio,
                      int precision) {
  rows_.push_back({what, number(baseline, precision), number(carbonclock, precision),
                   std::isfinite(ratio) ? fmt::format("{:.3g}", ratio) : "–"});
}

void Table::row_text(const std::string& what, const std::string& baseline,
                     const std::string& carbonclock, const std::string& ratio) {
  rows_.push_back({what, baseline, carbonclock, ratio});
}

void Table::note(const std::string& text) { notes_.push_back(text); }

void Table::print() const {
  fmt::print("\n### {}\n\n", title_);
  fmt::print("| | {} | carbonclock | carbonclock ÷ {} |\n|---|---:|---:|---:|\n", baseline_name_,
             ratio_of_);
  for (const auto& r : rows_) fmt::print("| {} | {} | {} | {} |\n", r[0], r[1], r[2], r[3]);
  for (const std::string& n : notes_) fmt::print("\n{}\n", n);
  std::fflush(stdout);
}

ChildRun run_child(const std::vector<std::string>& args) {
  ChildRun run;
  std::fflush(stdout);
  int fds[2];
  if (pipe(fds) != 0) return run;
  const pid_t pid = fork();
  if (pid < 0) return run;
  if (pid == 0) {
    dup2(fds[1], STDOUT_FILENO);
    close(fds[0]);
    close(fds[1]);
    std::vector<std::string> copy = args;
    std::string self = "/proc/self/exe";
    std::vector<char*> argv{self.data()};
    for (std::string& a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv("/proc/self/exe", argv.data());
    _exit(127);
  }
  close(fds[1]);
  char buffer[4096];
  ssize_t got = 0;
  while ((got = read(fds[0], buffer, sizeof buffer)) > 0) {
    run.output.append(buffer, static_cast<size_t>(got));
  }
  close(fds[0]);
  int status = 0;
  if (waitpid(pid, &status, 0) != pid) return run;
  run.ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
  return run;
}

double peak_rss_mib() {
  std::FILE* f = std::fopen("/proc/self/status", "r");
  if (f == nullptr) return -1;
  char line[256];
  double kib = -1;
  while (std::fgets(line, sizeof line, f) != nullptr) {
    if (std::sscanf(line, "VmHWM: %lf kB", &kib) == 1) break;
  }
  std::fclose(f);
  return kib < 0 ? -1 : kib / 1024.0;
}

double load_average() {
  double load[1] = {NAN};
  if (getloadavg(load, 1) != 1) return NAN;
  return load[0];
}

}  // namespace carbonclock::bench
