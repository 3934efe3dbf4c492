#include "reports/svg_chart.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "reports/format.h"

namespace carbonclock {
namespace {

constexpr double kWidth = 900, kPlotHeight = 240;
constexpr double kLeft = 80, kRight = 80, kTop = 36;
constexpr double kLegendRow = 18;
// Width of one character of the 11 px sans-serif legend text, generously (DejaVu Sans averages
// about 6.4 px): entries are laid out with it, so overestimating only wraps earlier.
constexpr double kCharWidth = 7.0;

// A "nice" step (1, 2 or 5 × 10^k) giving about `n` ticks over `span`.
double nice_step(double span, int n) {
  if (!(span > 0)) return 1;
  double raw = span / n;
  double mag = std::pow(10, std::floor(std::log10(raw)));
  double r = raw / mag;
  return (r <= 1 ? 1 : r <= 2 ? 2 : r <= 5 ? 5 : 10) * mag;
}

// `v` with `significant` significant digits, in plain notation, trailing zeros dropped.
std::string plain(double v, int significant) {
  if (v == 0 || !std::isfinite(v)) return "0";
  int magnitude = static_cast<int>(std::floor(std::log10(std::fabs(v))));
  int decimals = std::max(0, significant - 1 - magnitude);
  std::string s = fixed(v, decimals);
  if (s.find('.') != std::string::npos) {
    s.erase(s.find_last_not_of('0') + 1);
    if (s.back() == '.') s.pop_back();
  }
  return s;
}

std::string with_thousands(const std::string& digits) {
  size_t dot = digits.find('.');
  std::string whole = digits.substr(0, dot),
              rest = dot == std::string::npos ? "" : digits.substr(dot);
  bool neg = !whole.empty() && whole[0] == '-';
  if (neg) whole.erase(0, 1);
  std::string out;
  for (size_t i = 0; i < whole.size(); ++i) {
    if (i > 0 && (whole.size() - i) % 3 == 0) out += ',';
    out += whole[i];
  }
  return (neg ? "-" : "") + out + rest;
}

std::string value_text(double v) {
  if (std::fabs(v) >= 1e6) return axis_number(v);
  return with_thousands(plain(v, 4));
}

std::string svg_open(double w, double h, const std::string& title) {
  return fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {0} {1}\" width=\"{0}\" "
      "height=\"{1}\" role=\"img\" font-family=\"sans-serif\" font-size=\"11\">"
      "<title>{2}</title><text x=\"{3}\" y=\"16\" font-size=\"14\" "
      "font-weight=\"bold\">{2}</text>\n",
      w, h, html_escape(title), kLeft);
}

// Lays legend entries out in rows that fit [x0, x1); returns the SVG and the rows used.
std::pair<std::string, int> legend(const std::vector<std::pair<std::string, std::string>>& entries,
                                   double x0, double x1, double y0) {
  std::string out;
  double x = x0;
  int row = entries.empty() ? 0 : 1;
  for (const auto& [label, color] : entries) {
    double w = 16 + kCharWidth * static_cast<double>(label.size()) + 14;
    if (x > x0 && x + w > x1) {
      x = x0;
      ++row;
    }
    double y = y0 + (row - 1) * kLegendRow;
    out += fmt::format(
        "<g class=\"cc-legend\"><rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"12\" height=\"8\" "
        "fill=\"{}\"/><text x=\"{:.1f}\" y=\"{:.1f}\">{}</text></g>\n",
        x, y - 8, color, x + 16, y, html_escape(label));
    x += w;
  }
  return {out, row};
}

struct TimeAxis {
  double step_s = 1;
  double first_s = 0;    ///< first tick, seconds from the origin
  bool seconds = false;  ///< label as seconds since the origin
  bool with_seconds = false;
};

TimeAxis time_axis(SysTime origin, double span_s) {
  TimeAxis a;
  if (span_s < 120) {
    a.seconds = true;
    a.step_s = nice_step(span_s, 6);
    return a;
  }
  constexpr double kSteps[] = {10,    15,     30,     60,     120,    300,   600,
                               900,   1800,   3600,   7200,   10800,  21600, 43200,
                               86400, 172800, 432000, 864000, 2592000};
  a.step_s = kSteps[std::size(kSteps) - 1];
  for (double s : kSteps) {
    if (s >= span_s / 7) {
      a.step_s = s;
      break;
    }
  }
  a.with_seconds = std::fmod(a.step_s, 60) != 0;
  // Ticks on whole multiples of the step in UTC.
  double origin_s = std::chrono::duration<double>(origin.time_since_epoch()).count();
  a.first_s = std::ceil(origin_s / a.step_s - 1e-9) * a.step_s - origin_s;
  return a;
}

}  // namespace

std::string axis_number(double v) {
  double a = std::fabs(v);
  if (a >= 1e9) return plain(v / 1e9, 3) + " G";
  if (a >= 1e6) return plain(v / 1e6, 3) + " M";
  if (a >= 1e3) return with_thousands(plain(v, 6));
  return plain(v, 3);
}

std::string html_escape(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string svg_line_chart(const LineChart& c) {
  double x_max = 0, y_max = 0, y2_max = 0;
  for (const auto& s : c.series) {
    for (const auto& [x, y] : s.xy) {
      x_max = std::max(x_max, x);
      (s.right_axis ? y2_max : y_max) = std::max(s.right_axis ? y2_max : y_max, y);
    }
  }
  if (x_max <= 0) x_max = 1;
  const double ystep = nice_step(y_max > 0 ? y_max : 1, 5);
  const double ytop = std::max(std::ceil(y_max / ystep), 1.0) * ystep;
  const double y2step = nice_step(y2_max > 0 ? y2_max : 1, 5);
  const double y2top = std::max(std::ceil(y2_max / y2step), 1.0) * y2step;
  const double pw = kWidth - kLeft - kRight, ph = kPlotHeight;
  auto px = [&](double x) { return kLeft + x / x_max * pw; };
  auto py = [&](double y, bool right) { return kTop + ph - y / (right ? y2top : ytop) * ph; };

  std::vector<std::pair<std::string, std::string>> entries;
  for (const auto& s : c.series) entries.emplace_back(s.label, s.color);
  auto [legend_svg, rows] = legend(entries, kLeft, kWidth - 10, kTop + ph + 52);
  const double height = kTop + ph + 44 + rows * kLegendRow + 6;

  std::string out = svg_open(kWidth, height, c.title);
  out += fmt::format(
      "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"#999\"/>\n", kLeft,
      kTop, pw, ph);
  for (double y = 0; y <= ytop + ystep / 2; y += ystep) {
    out += fmt::format(
        "<line x1=\"{0}\" x2=\"{1}\" y1=\"{2}\" y2=\"{2}\" stroke=\"#eee\"/><text x=\"{3}\" "
        "y=\"{4}\" text-anchor=\"end\">{5}</text>\n",
        kLeft, kLeft + pw, py(y, false), kLeft - 6, py(y, false) + 4, axis_number(y));
  }
  const bool right = std::any_of(c.series.begin(), c.series.end(),
                                 [](const ChartSeries& s) { return s.right_axis; });
  if (right) {
    for (double y = 0; y <= y2top + y2step / 2; y += y2step) {
      out += fmt::format("<text x=\"{}\" y=\"{}\">{}</text>\n", kLeft + pw + 6, py(y, true) + 4,
                         axis_number(y));
    }
    out += fmt::format(
        "<text transform=\"translate({},{}) rotate(90)\" text-anchor=\"middle\">{}</text>\n",
        kWidth - 16, kTop + ph / 2, html_escape(c.y2_label));
  }
  out += fmt::format(
      "<text transform=\"translate(16,{}) rotate(-90)\" text-anchor=\"middle\">{}</text>\n",
      kTop + ph / 2, html_escape(c.y_label));
  const TimeAxis t = time_axis(c.time_origin, x_max);
  for (int i = 0;; ++i) {
    double x = t.first_s + t.step_s * i;
    if (x > x_max + 1e-9) break;
    SysTime at = c.time_origin + from_seconds(x);
    std::string label = t.seconds        ? axis_number(x) + " s"
                        : t.with_seconds ? format_utc(at).substr(11, 8)
                                         : format_utc_minutes(at).substr(11, 5);
    out += fmt::format(
        "<line x1=\"{0:.1f}\" x2=\"{0:.1f}\" y1=\"{1}\" y2=\"{2}\" stroke=\"#999\"/>"
        "<text class=\"cc-xtick\" x=\"{0:.1f}\" y=\"{3}\" text-anchor=\"middle\">{4}</text>\n",
        px(x), kTop + ph, kTop + ph + 4, kTop + ph + 16, label);
  }
  out += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n", kLeft + pw / 2,
                     kTop + ph + 32,
                     t.seconds ? "seconds since " + format_utc(c.time_origin).substr(11, 8) + " UTC"
                               : std::string("time (UTC)"));
  for (const auto& s : c.series) {
    std::string points;
    for (size_t i = 0; i < s.xy.size(); ++i) {
      auto [x, y] = s.xy[i];
      points += fmt::format("{:.1f},{:.1f} ", px(x), py(y, s.right_axis));
      if (s.step) {
        double next = i + 1 < s.xy.size() ? s.xy[i + 1].first : x_max;
        points += fmt::format("{:.1f},{:.1f} ", px(next), py(y, s.right_axis));
      }
    }
    out += fmt::format(
        "<polyline fill=\"none\" stroke=\"{}\" stroke-width=\"2\" points=\"{}\">"
        "<title>{}</title></polyline>\n",
        s.color, points, html_escape(s.label));
  }
  out += legend_svg;
  return out + "</svg>\n";
}

std::string svg_bar_chart(const BarChart& c) {
  double v_min = INFINITY, v_max = 0;
  for (const auto& b : c.bars) {
    if (b.value > 0) v_min = std::min(v_min, b.value), v_max = std::max(v_max, b.value);
  }
  if (!(v_max > 0)) v_min = 0.1, v_max = 1;
  auto fill = [](const Bar& b) {
    return !b.color.empty() ? b.color : b.highlight ? std::string("#d62728") : "#4c78a8";
  };
  if (c.horizontal) {
    // Log scale over whole decades covering the bars and the markers within 100× of them.
    double lo_v = v_min, hi_v = v_max;
    for (const auto& m : c.markers) {
      if (m.second >= v_min / 100 && m.second <= v_max * 100) {
        lo_v = std::min(lo_v, m.second), hi_v = std::max(hi_v, m.second);
      }
    }
    double lo = std::floor(std::log10(lo_v)), hi = std::ceil(std::log10(hi_v));
    if (hi <= lo) hi = lo + 1;
    const double row = 16, left = 210, right = 40;
    const double bottom = kTop + row * static_cast<double>(c.bars.size());
    const double pw = kWidth - left - right;
    auto px = [&](double v) { return v > 0 ? left + (std::log10(v) - lo) / (hi - lo) * pw : left; };
    size_t drawn_markers = 0;
    std::string markers;
    for (const auto& [label, v] : c.markers) {
      if (!(v >= std::pow(10, lo) && v <= std::pow(10, hi))) continue;
      ++drawn_markers;
      markers += fmt::format(
          "<line x1=\"{0:.1f}\" x2=\"{0:.1f}\" y1=\"{1}\" y2=\"{2}\" stroke=\"#2ca02c\" "
          "stroke-dasharray=\"4 3\"/><text x=\"{3:.1f}\" y=\"{4}\" fill=\"#2ca02c\">{5}</text>\n",
          px(v), kTop - 4, bottom, px(v) + 3, kTop - 6, html_escape(label));
    }
    auto [legend_svg, rows] = legend(c.legend, left, kWidth - 10, bottom + 52);
    const double h = bottom + 40 + rows * kLegendRow + 6;
    std::string out = svg_open(kWidth, h, c.title);
    for (double d = lo; d <= hi; ++d) {
      double x = left + (d - lo) / (hi - lo) * pw;
      out += fmt::format(
          "<line x1=\"{0}\" x2=\"{0}\" y1=\"{1}\" y2=\"{2}\" stroke=\"#ddd\"/><text x=\"{0}\" "
          "y=\"{3}\" text-anchor=\"middle\">{4}</text>\n",
          x, kTop, bottom, bottom + 14, axis_number(std::pow(10, d)));
    }
    out += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}{}</text>\n",
                       left + pw / 2, bottom + 30, html_escape(c.value_label),
                       drawn_markers > 0 ? "; dashed lines: everyday equivalents" : "");
    for (size_t i = 0; i < c.bars.size(); ++i) {
      const auto& b = c.bars[i];
      double y = kTop + row * static_cast<double>(i);
      out += fmt::format(
          "<text x=\"{}\" y=\"{}\" text-anchor=\"end\"{}>{}</text><rect x=\"{}\" y=\"{}\" "
          "width=\"{:.1f}\" height=\"{}\" fill=\"{}\"><title>{}: {}</title></rect>\n",
          left - 6, y + row - 4, b.highlight ? " font-weight=\"bold\"" : "", html_escape(b.label),
          left, y + 2, std::max(px(b.value) - left, 0.0), row - 4, fill(b), html_escape(b.label),
          value_text(b.value));
    }
    out += markers + legend_svg;
    return out + "</svg>\n";
  }
  const double step = nice_step(v_max, 5);
  const double top = std::max(std::ceil(v_max / step), 1.0) * step;
  const double pw = kWidth - kLeft - kRight, ph = kPlotHeight;
  const double slot = pw / static_cast<double>(std::max<size_t>(c.bars.size(), 1));
  auto [legend_svg, rows] = legend(c.legend, kLeft, kWidth - 10, kTop + ph + 36);
  std::string out = svg_open(kWidth, kTop + ph + 26 + rows * kLegendRow + 6, c.title);
  for (double v = 0; v <= top + step / 2; v += step) {
    double y = kTop + ph - v / top * ph;
    out += fmt::format(
        "<line x1=\"{0}\" x2=\"{1}\" y1=\"{2}\" y2=\"{2}\" stroke=\"#eee\"/><text x=\"{3}\" "
        "y=\"{4}\" text-anchor=\"end\">{5}</text>\n",
        kLeft, kLeft + pw, y, kLeft - 6, y + 4, axis_number(v));
  }
  out += fmt::format(
      "<text transform=\"translate(16,{}) rotate(-90)\" text-anchor=\"middle\">{}</text>\n",
      kTop + ph / 2, html_escape(c.value_label));
  for (size_t i = 0; i < c.bars.size(); ++i) {
    const auto& b = c.bars[i];
    double hgt = std::max(b.value, 0.0) / top * ph;
    double x = kLeft + slot * static_cast<double>(i);
    out += fmt::format(
        "<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" fill=\"{}\">"
        "<title>{}: {}</title></rect><text x=\"{:.1f}\" y=\"{}\" "
        "text-anchor=\"middle\">{}</text>\n",
        x + 2, kTop + ph - hgt, slot - 4, hgt, fill(b), html_escape(b.label), value_text(b.value),
        x + slot / 2, kTop + ph + 14, html_escape(b.label));
  }
  out += legend_svg;
  return out + "</svg>\n";
}

}  // namespace carbonclock
