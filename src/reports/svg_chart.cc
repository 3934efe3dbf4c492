#include "reports/svg_chart.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace carbonclock {
namespace {

constexpr double kWidth = 900, kHeight = 320;
constexpr double kLeft = 80, kRight = 80, kTop = 36, kBottom = 44;

// A "nice" tick step (1, 2 or 5 × 10^k) giving about `n` ticks over `span`.
double nice_step(double span, int n) {
  if (!(span > 0)) return 1;
  double raw = span / n;
  double mag = std::pow(10, std::floor(std::log10(raw)));
  double r = raw / mag;
  return (r <= 1 ? 1 : r <= 2 ? 2 : r <= 5 ? 5 : 10) * mag;
}

std::string num(double v) {
  if (v != 0 && (std::fabs(v) >= 1e5 || std::fabs(v) < 1e-2)) return fmt::format("{:.0e}", v);
  return fmt::format("{:g}", v);
}

std::string svg_open(double w, double h, const std::string& title) {
  return fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {0} {1}\" width=\"{0}\" "
      "height=\"{1}\" role=\"img\" font-family=\"sans-serif\" font-size=\"11\">"
      "<title>{2}</title><text x=\"{3}\" y=\"14\" font-size=\"14\" "
      "font-weight=\"bold\">{2}</text>\n",
      w, h, html_escape(title), kLeft);
}

}  // namespace

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
  const double pw = kWidth - kLeft - kRight, ph = kHeight - kTop - kBottom;
  auto px = [&](double x) { return kLeft + x / x_max * pw; };
  auto py = [&](double y, bool right) { return kTop + ph - y / (right ? y2top : ytop) * ph; };

  std::string out = svg_open(kWidth, kHeight, c.title);
  out += fmt::format(
      "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"#999\"/>\n", kLeft,
      kTop, pw, ph);
  for (double y = 0; y <= ytop + ystep / 2; y += ystep) {
    out += fmt::format(
        "<line x1=\"{0}\" x2=\"{1}\" y1=\"{2}\" y2=\"{2}\" stroke=\"#eee\"/><text x=\"{3}\" "
        "y=\"{4}\" text-anchor=\"end\">{5}</text>\n",
        kLeft, kLeft + pw, py(y, false), kLeft - 6, py(y, false) + 4, num(y));
  }
  const bool right = std::any_of(c.series.begin(), c.series.end(),
                                 [](const ChartSeries& s) { return s.right_axis; });
  if (right) {
    for (double y = 0; y <= y2top + y2step / 2; y += y2step) {
      out += fmt::format("<text x=\"{}\" y=\"{}\">{}</text>\n", kLeft + pw + 6, py(y, true) + 4,
                         num(y));
    }
    out += fmt::format(
        "<text transform=\"translate({},{}) rotate(90)\" text-anchor=\"middle\">{}</text>\n",
        kWidth - 16, kTop + ph / 2, html_escape(c.y2_label));
  }
  out += fmt::format(
      "<text transform=\"translate(16,{}) rotate(-90)\" text-anchor=\"middle\">{}</text>\n",
      kTop + ph / 2, html_escape(c.y_label));
  const double xstep = nice_step(x_max, 6);
  for (double x = 0; x <= x_max + 1e-9; x += xstep) {
    std::string label = x_max < 600
                            ? format_utc(c.time_origin + from_seconds(x)).substr(11, 8)
                            : format_utc_minutes(c.time_origin + from_seconds(x)).substr(11, 5);
    out += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n", px(x),
                       kTop + ph + 16, label);
  }
  out += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">time (UTC)</text>\n",
                     kLeft + pw / 2, kHeight - 6);
  double legend_x = kLeft;
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
    out += fmt::format(
        "<rect x=\"{}\" y=\"23\" width=\"12\" height=\"4\" fill=\"{}\"/><text x=\"{}\" "
        "y=\"29\">{}</text>\n",
        legend_x, s.color, legend_x + 16, html_escape(s.label));
    legend_x += 24 + 7.0 * static_cast<double>(s.label.size());
  }
  return out + "</svg>\n";
}

std::string svg_bar_chart(const BarChart& c) {
  double v_min = INFINITY, v_max = 0;
  for (const auto& b : c.bars) {
    if (b.value > 0) v_min = std::min(v_min, b.value), v_max = std::max(v_max, b.value);
  }
  if (!(v_max > 0)) v_min = 0.1, v_max = 1;
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
    const double h = kTop + row * static_cast<double>(c.bars.size()) + kBottom;
    const double pw = kWidth - left - right;
    auto px = [&](double v) { return v > 0 ? left + (std::log10(v) - lo) / (hi - lo) * pw : left; };
    std::string out = svg_open(kWidth, h, c.title);
    const double bottom = kTop + row * static_cast<double>(c.bars.size());
    for (double d = lo; d <= hi; ++d) {
      double x = left + (d - lo) / (hi - lo) * pw;
      out += fmt::format(
          "<line x1=\"{0}\" x2=\"{0}\" y1=\"{1}\" y2=\"{2}\" stroke=\"#ddd\"/><text x=\"{0}\" "
          "y=\"{3}\" text-anchor=\"middle\">{4}</text>\n",
          x, kTop, bottom, bottom + 14, num(std::pow(10, d)));
    }
    out += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n", left + pw / 2,
                       bottom + 30, html_escape(c.value_label));
    for (size_t i = 0; i < c.bars.size(); ++i) {
      const auto& b = c.bars[i];
      double y = kTop + row * static_cast<double>(i);
      out += fmt::format(
          "<text x=\"{}\" y=\"{}\" text-anchor=\"end\"{}>{}</text><rect x=\"{}\" y=\"{}\" "
          "width=\"{:.1f}\" height=\"{}\" fill=\"{}\"><title>{}: {:.4g}</title></rect>\n",
          left - 6, y + row - 4, b.highlight ? " font-weight=\"bold\"" : "", html_escape(b.label),
          left, y + 2, std::max(px(b.value) - left, 0.0), row - 4,
          b.highlight ? "#d62728" : "#4c78a8", html_escape(b.label), b.value);
    }
    for (const auto& [label, v] : c.markers) {
      if (!(v >= std::pow(10, lo) && v <= std::pow(10, hi))) continue;
      out += fmt::format(
          "<line x1=\"{0:.1f}\" x2=\"{0:.1f}\" y1=\"{1}\" y2=\"{2}\" stroke=\"#2ca02c\" "
          "stroke-dasharray=\"4 3\"/><text x=\"{3:.1f}\" y=\"{4}\" fill=\"#2ca02c\">{5}</text>\n",
          px(v), kTop - 4, bottom, px(v) + 3, kTop - 6, html_escape(label));
    }
    return out + "</svg>\n";
  }
  const double step = nice_step(v_max, 5);
  const double top = std::max(std::ceil(v_max / step), 1.0) * step;
  const double pw = kWidth - kLeft - kRight, ph = kHeight - kTop - kBottom;
  const double slot = pw / static_cast<double>(std::max<size_t>(c.bars.size(), 1));
  std::string out = svg_open(kWidth, kHeight, c.title);
  for (double v = 0; v <= top + step / 2; v += step) {
    double y = kTop + ph - v / top * ph;
    out += fmt::format(
        "<line x1=\"{0}\" x2=\"{1}\" y1=\"{2}\" y2=\"{2}\" stroke=\"#eee\"/><text x=\"{3}\" "
        "y=\"{4}\" text-anchor=\"end\">{5}</text>\n",
        kLeft, kLeft + pw, y, kLeft - 6, y + 4, num(v));
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
        "<title>{}: {:.4g}</title></rect><text x=\"{:.1f}\" y=\"{}\" "
        "text-anchor=\"middle\">{}</text>\n",
        x + 2, kTop + ph - hgt, slot - 4, hgt, b.highlight ? "#d62728" : "#4c78a8",
        html_escape(b.label), b.value, x + slot / 2, kTop + ph + 14, html_escape(b.label));
  }
  return out + "</svg>\n";
}

}  // namespace carbonclock
