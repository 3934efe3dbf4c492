// Every metric the exporter serves, declared once (kMetrics, with its type and help) and
// rendered in the Prometheus text format by prometheus-cpp's TextSerializer. Names follow the
// Prometheus conventions: base units, _total on counters.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "exporter/http_server.h"
#include "exporter/intensity_feed.h"
#include "exporter/node_meter.h"
#include "exporter/self_stats.h"

namespace carbonclock {

enum class MetricType { kCounter, kGauge, kHistogram };

struct MetricSpec {
  const char* name;
  MetricType type;
  const char* labels;  ///< for docs/exporter.md and --help: "device, kind, method, name, uuid"
  const char* help;
};

/// The table (docs/exporter.md lists the same, in the same order).
extern const std::vector<MetricSpec> kMetrics;

/// A histogram of durations with fixed bucket bounds.
class DurationHistogram {
 public:
  DurationHistogram();
  void observe(double seconds);
  const std::vector<double>& bounds() const { return bounds_; }
  const std::vector<uint64_t>& counts() const { return counts_; }  ///< per bucket, + overflow
  double sum() const { return sum_; }
  uint64_t count() const { return count_; }

 private:
  std::vector<double> bounds_;
  std::vector<uint64_t> counts_;
  double sum_ = 0;
  uint64_t count_ = 0;
};

/// What the exporter knows about itself at a scrape.
struct ExporterStats {
  std::string version;
  ProcessStats process;
  DurationHistogram scrape_duration;  ///< /metrics requests answered before this one
  DurationHistogram sample_duration;  ///< the sampler's attributing steps
  HttpStats http;
  FeedStats feed;
};

/// The text exposition (format 0.0.4) of every metric with at least one sample.
std::string render_metrics(const NodeSnapshot& node, const ExporterStats& self);

}  // namespace carbonclock
