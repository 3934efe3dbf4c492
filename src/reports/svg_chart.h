// The few SVG charts the HTML report draws, in one place: a line/step chart with an optional
// right axis and a bar chart (horizontal with a log scale, or vertical with a linear one).
// Output is plain inline SVG; no scripts, no network.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/time.h"

namespace carbonclock {

/// Escapes &, <, >, " and ' for HTML/SVG text and attributes.
std::string html_escape(const std::string& text);

struct ChartSeries {
  std::string label;
  std::string color;                          ///< CSS colour
  std::vector<std::pair<double, double>> xy;  ///< x in seconds from LineChart::time_origin
  bool step = false;                          ///< a step function: each y holds until the next x
  bool right_axis = false;                    ///< scaled against the right-hand axis
};

struct LineChart {
  std::string title;
  std::string y_label;
  std::string y2_label;  ///< right axis; used when a series has right_axis
  /// x = 0. Ticks fall on whole time steps; spans under two minutes are labelled in seconds
  /// since it, longer ones as UTC HH:MM:SS or HH:MM, whichever the step needs.
  SysTime time_origin;
  std::vector<ChartSeries> series;
};

/// An SVG line chart, 900 wide, with axes, ticks and a legend below the plot that wraps into
/// as many rows as the series need (the chart grows; nothing is clipped). Each legend entry
/// is a <g class="cc-legend">; each series has a <title>.
std::string svg_line_chart(const LineChart& chart);

/// A tick or value label without exponents: "0.001", "2.5", "1,200", "3.5 M".
std::string axis_number(double value);

struct Bar {
  std::string label;
  double value = 0;
  bool highlight = false;
  std::string color;  ///< fill; empty: the default (highlighted bars are red)
};

struct BarChart {
  std::string title;
  std::string value_label;
  std::vector<Bar> bars;
  bool horizontal = true;  ///< horizontal bars on a log10 scale; vertical bars on a linear one
  /// Labelled reference values (log scale only); those within 100× of the bars widen the axis,
  /// the others are left out. When any is drawn the axis label says what the dashed lines are.
  std::vector<std::pair<std::string, double>> markers;
  /// Legend entries (label, colour) drawn under the axis, wrapping like the line chart's.
  std::vector<std::pair<std::string, std::string>> legend;
};

/// An SVG bar chart; non-positive values are drawn as empty bars on the log scale.
std::string svg_bar_chart(const BarChart& chart);

}  // namespace carbonclock
