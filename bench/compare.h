// The benchmark harness's comparison tables: carbonclock measured against a baseline in the
// same run (interleaved repetitions, medians), printed as one Markdown table per benchmark
// with the baseline, carbonclock and their ratio, so a reader sees the comparison without
// reading code. Also CPU and wall clocks, and the peak RSS of a child run of this program.
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace carbonclock::bench {

/// CPU seconds of the whole process (every thread) and wall seconds.
struct Sample {
  double cpu_s = 0;
  double wall_s = 0;
};

/// CPU seconds of the calling thread so far.
double thread_cpu_s();

/// Runs `f` once and measures it.
Sample measure(const std::function<void()>& f);

/// Runs baseline and carbonclock alternately, `reps` times each (baseline first), so load that
/// comes and goes on the machine hits both alike.
struct Paired {
  std::vector<Sample> baseline, carbonclock;
  double median_cpu_baseline() const;
  double median_cpu_carbonclock() const;
  double median_wall_baseline() const;
  double median_wall_carbonclock() const;
  /// Median over repetitions of carbonclock CPU ÷ baseline CPU (paired).
  double median_cpu_ratio() const;
};
Paired interleave(int reps, const std::function<void()>& baseline,
                  const std::function<void()>& carbonclock);

double median(std::vector<double> values);

/// One benchmark's table: rows of (what, baseline, carbonclock, carbonclock ÷ baseline).
class Table {
 public:
  /// `baseline_name` heads the baseline column; the ratio column is "carbonclock ÷ `ratio_of`".
  Table(std::string title, std::string baseline_name, std::string ratio_of = "baseline");
  /// A row with the ratio computed as carbonclock / baseline.
  void row(const std::string& what, double baseline, double carbonclock, int precision = 2);
  /// A row with a given ratio (e.g. a paired median), or text cells.
  void row_ratio(const std::string& what, double baseline, double carbonclock, double ratio,
                 int precision = 2);
  void row_text(const std::string& what, const std::string& baseline,
                const std::string& carbonclock, const std::string& ratio);
  void note(const std::string& text);
  /// Prints the table in Markdown to stdout.
  void print() const;

 private:
  std::string title_, baseline_name_, ratio_of_;
  std::vector<std::vector<std::string>> rows_;
  std::vector<std::string> notes_;
};

/// Formats a number with `precision` decimals, thousands separated (1,234.56).
std::string number(double v, int precision = 2);

/// This program run again with `args` (fork, exec /proc/self/exe): what it wrote on stdout.
/// (The child must report its own peak RSS, see peak_rss_mib: wait4's ru_maxrss keeps the
/// parent's high-water mark from before exec.)
struct ChildRun {
  bool ok = false;  ///< exited with status 0
  std::string output;
};
ChildRun run_child(const std::vector<std::string>& args);

/// This process's peak resident set size (VmHWM in /proc/self/status), MiB; negative when
/// unreadable.
double peak_rss_mib();

/// The 1-minute load average, for the record (the bench machine may be shared).
double load_average();

}  // namespace carbonclock::bench
