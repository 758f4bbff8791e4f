// svg_line_chart (declared in results/report.hpp): an SvgChart as an inline <svg> line chart,
// laid out in steps: legend rows, data range, grid and ticks, one path per series, the legend.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "priorlab/plot.hpp"
#include "results/report.hpp"

namespace priorlab::host {

namespace {

// 1, 2 or 5 times a power of ten, near range / 5.
double nice_step(double range) {
  if (!(range > 0)) return 1;
  const double raw = range / 5, mag = std::pow(10.0, std::floor(std::log10(raw))), norm = raw / mag;
  return (norm < 1.5 ? 1 : norm < 3.5 ? 2 : norm < 7.5 ? 5 : 10) * mag;
}

std::string tick_text(double v) {
  if (std::abs(v) < 1e-12) return "0";
  const double a = std::abs(v);
  if (a >= 1e5 || a < 1e-3) {
    const int e = static_cast<int>(std::floor(std::log10(a) + 1e-9));
    const double m = v / std::pow(10.0, e);
    return std::abs(m - std::round(m)) < 1e-9 ? fmt::format("{}e{}", static_cast<int>(std::round(m)), e)
                                              : fmt::format("{:.3g}e{}", m, e);
  }
  return fmt::format("{:.6g}", v);
}

std::string num(double v) { return fmt::format("{:.1f}", v); }

// A legend entry: a series label, listed once.
struct LegendEntry {
  std::string label, color;
  bool dashed;
};

// Each series' colour, and the legend laid out in rows that fit the plot's width.
struct ChartLegend {
  std::vector<std::string> colors;  // one per series
  std::vector<LegendEntry> entries;
  std::vector<std::vector<size_t>> rows;  // indices into entries
};

// Where the plot sits in the picture, and the data range it spans (y as log10 on a log scale).
struct PlotArea {
  double left = 64, top = 26, plot_w = 0, plot_h = 0;
  double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
  double px(double x) const { return left + (x - x0) / (x1 - x0) * plot_w; }
  double py(double y) const { return top + plot_h - (y - y0) / (y1 - y0) * plot_h; }
};

// A y value the chart can draw: finite, and positive on a log scale.
bool usable(const SvgChart& chart, double y) { return std::isfinite(y) && (!chart.log_y || y > 0); }

// The series' colours and the legend's rows: an entry moves to a new row when it would pass plot_w.
ChartLegend chart_legend(const SvgChart& chart, double plot_w) {
  ChartLegend legend;
  std::set<std::string> listed;
  size_t auto_color = 0;
  for (const auto& s : chart.series) {
    legend.colors.push_back(s.color.empty() ? palette_color(auto_color++) : s.color);
    if (!s.label.empty() && listed.insert(s.label).second)
      legend.entries.push_back({s.label, legend.colors.back(), s.dashed});
  }
  legend.rows.resize(1);
  double x_cursor = 0;
  for (size_t i = 0; i < legend.entries.size(); ++i) {
    const double w = 30 + 6.2 * legend.entries[i].label.size();
    if (x_cursor > 0 && x_cursor + w > plot_w) legend.rows.emplace_back(), x_cursor = 0;
    legend.rows.back().push_back(i);
    x_cursor += w + 12;
  }
  if (legend.entries.empty()) legend.rows.clear();
  return legend;
}

// The range of the drawable points into a; it stays empty (x0 > x1) when there are none.
void measure_range(const SvgChart& chart, PlotArea& a) {
  for (const auto& s : chart.series)
    for (size_t i = 0; i < std::min(s.x.size(), s.y.size()); ++i) {
      if (!std::isfinite(s.x[i]) || !usable(chart, s.y[i])) continue;
      a.x0 = std::min(a.x0, s.x[i]), a.x1 = std::max(a.x1, s.x[i]);
      const double y = chart.log_y ? std::log10(s.y[i]) : s.y[i];
      a.y0 = std::min(a.y0, y), a.y1 = std::max(a.y1, y);
    }
}

// Room around the data: whole decades on a log scale, 5% each side on a linear one.
void widen_range(const SvgChart& chart, PlotArea& a) {
  if (a.x1 == a.x0) a.x0 -= 1, a.x1 += 1;
  if (chart.log_y) {
    a.y0 = std::floor(a.y0 + 1e-9), a.y1 = std::ceil(a.y1 - 1e-9);
    if (a.y1 <= a.y0) a.y1 = a.y0 + 1;
  } else {
    if (a.y1 == a.y0) a.y0 -= std::max(1.0, std::abs(a.y0) * 0.1), a.y1 += std::max(1.0, std::abs(a.y1) * 0.1);
    const double pad = 0.05 * (a.y1 - a.y0);
    a.y0 -= pad, a.y1 += pad;
  }
}

// The grid lines and tick labels: decades or nice steps on y, nice steps on x.
std::string grid_svg(const SvgChart& chart, const PlotArea& a) {
  std::string grid;
  if (chart.log_y) {
    const int decades = static_cast<int>(a.y1 - a.y0), every = std::max(1, (decades + 5) / 6);
    for (int e = static_cast<int>(a.y0); e <= static_cast<int>(a.y1); ++e) {
      if ((e - static_cast<int>(a.y0)) % every) continue;
      grid += fmt::format(R"(<line x1="{}" x2="{}" y1="{}" y2="{}" stroke="#e4e4e4"/>)", num(a.left),
                          num(a.left + a.plot_w), num(a.py(e)), num(a.py(e)));
      grid += fmt::format(R"(<text x="{}" y="{}" font-size="11" text-anchor="end">1e{}</text>)", num(a.left - 5),
                          num(a.py(e) + 4), e);
    }
  } else {
    const double step = nice_step(a.y1 - a.y0);
    for (double v = std::ceil(a.y0 / step) * step; v <= a.y1 + 1e-9 * step; v += step) {
      grid += fmt::format(R"(<line x1="{}" x2="{}" y1="{}" y2="{}" stroke="#e4e4e4"/>)", num(a.left),
                          num(a.left + a.plot_w), num(a.py(v)), num(a.py(v)));
      grid += fmt::format(R"(<text x="{}" y="{}" font-size="11" text-anchor="end">{}</text>)", num(a.left - 5),
                          num(a.py(v) + 4), tick_text(std::abs(v) < step * 1e-9 ? 0 : v));
    }
  }
  const double xstep = nice_step(a.x1 - a.x0);
  for (double v = std::ceil(a.x0 / xstep) * xstep; v <= a.x1 + 1e-9 * xstep; v += xstep) {
    grid += fmt::format(R"(<line x1="{}" x2="{}" y1="{}" y2="{}" stroke="#e4e4e4"/>)", num(a.px(v)), num(a.px(v)),
                        num(a.top), num(a.top + a.plot_h));
    grid += fmt::format(R"(<text x="{}" y="{}" font-size="11" text-anchor="middle">{}</text>)", num(a.px(v)),
                        num(a.top + a.plot_h + 15), tick_text(v));
  }
  return grid;
}

// One series as a path; "M" starts again after a gap. Empty when it has no drawable point.
std::string series_path(const SvgChart& chart, const SvgSeries& s, const std::string& color, const PlotArea& a) {
  std::string d;
  bool pen_down = false;
  size_t points = 0;
  for (size_t i = 0; i < std::min(s.x.size(), s.y.size()); ++i) {
    if (!std::isfinite(s.x[i]) || !usable(chart, s.y[i])) {
      pen_down = false;
      continue;
    }
    const double y = chart.log_y ? std::log10(s.y[i]) : s.y[i];
    d += fmt::format("{}{},{} ", pen_down ? "L" : "M", num(a.px(s.x[i])), num(a.py(y)));
    pen_down = true;
    ++points;
  }
  if (points == 0) return "";
  if (points == 1) d += "l0.01,0 ";  // a lone point still shows (round caps)
  return fmt::format(
      R"(<path d="{}" fill="none" stroke="{}" stroke-width="1.6" stroke-linecap="round" stroke-linejoin="round"{}{}/>)",
      d, color, s.dashed ? R"( stroke-dasharray="6 4")" : "",
      s.opacity < 1 ? fmt::format(R"( stroke-opacity="{:.2f}")", s.opacity) : "");
}

// The legend's rows below the plot, from x = left and y = legend_top down.
std::string legend_svg(const ChartLegend& legend, double left, double legend_top) {
  std::string out;
  for (size_t r = 0; r < legend.rows.size(); ++r) {
    double x = left;
    const double y = legend_top + 16.0 * r;
    for (const size_t i : legend.rows[r]) {
      const LegendEntry& e = legend.entries[i];
      out += fmt::format(R"(<line x1="{}" x2="{}" y1="{}" y2="{}" stroke="{}" stroke-width="2.5"{}/>)", num(x),
                         num(x + 22), num(y - 4), num(y - 4), e.color, e.dashed ? R"( stroke-dasharray="5 3")" : "");
      out += fmt::format(R"(<text x="{}" y="{}" font-size="11">{}</text>)", num(x + 27), num(y), html_escape(e.label));
      x += 30 + 6.2 * e.label.size() + 12;
    }
  }
  return out;
}

}  // namespace

std::string svg_line_chart(const SvgChart& chart) {
  const int W = chart.width;
  const double right = 16;
  PlotArea a;
  a.plot_h = chart.height - 70.0;
  a.plot_w = W - a.left - right;

  // Legend rows, laid out first so the picture's height is known.
  const ChartLegend legend = chart_legend(chart, a.plot_w);
  const double legend_top = a.top + a.plot_h + 48;
  const int H = static_cast<int>(legend_top + 16.0 * legend.rows.size() + 4);

  std::string out =
      fmt::format(R"(<svg class="chart" viewBox="0 0 {} {}" width="{}" height="{}" role="img" aria-label="{}">)", W, H,
                  W, H, html_escape(chart.title));
  out += fmt::format(R"(<rect x="0" y="0" width="{}" height="{}" fill="#fff"/>)", W, H);
  out += fmt::format(R"(<text x="{}" y="16" font-size="13" font-weight="bold" text-anchor="middle">{}</text>)",
                     num(W / 2.0), html_escape(chart.title));

  // Data ranges over the drawable points.
  measure_range(chart, a);
  out += fmt::format(R"(<rect x="{}" y="{}" width="{}" height="{}" fill="none" stroke="#999"/>)", num(a.left),
                     num(a.top), num(a.plot_w), num(a.plot_h));
  if (!(a.x0 <= a.x1)) {
    out += fmt::format(R"(<text x="{}" y="{}" font-size="12" fill="#777" text-anchor="middle">no data</text></svg>)",
                       num(a.left + a.plot_w / 2), num(a.top + a.plot_h / 2));
    return out;
  }
  widen_range(chart, a);

  // Grid and tick labels.
  out += grid_svg(chart, a);
  out += fmt::format(R"(<text x="{}" y="{}" font-size="11" fill="#555" text-anchor="middle">{}</text>)",
                     num(a.left + a.plot_w / 2), num(a.top + a.plot_h + 30), html_escape(chart.x_label));

  // One path per series; "M" starts again after a gap.
  for (size_t k = 0; k < chart.series.size(); ++k) out += series_path(chart, chart.series[k], legend.colors[k], a);

  // Legend.
  out += legend_svg(legend, a.left, legend_top);
  return out + "</svg>";
}

}  // namespace priorlab::host
