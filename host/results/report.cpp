#include "results/report.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <ctime>
#include <fstream>
#include <iostream>
#include <map>
#include <set>

#include "engine/progress.hpp"
#include "pipeline/pipeline.hpp"
#include "priorlab/error.hpp"
#include "priorlab/io.hpp"
#include "priorlab/plot.hpp"
#include "priorlab/version.hpp"

namespace fs = std::filesystem;
using nlohmann::json;

namespace priorlab::host {

std::string base64_encode(std::string_view in) {
  static const char* const table = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const unsigned v = (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8) |
                       static_cast<unsigned char>(in[i + 2]);
    out += table[(v >> 18) & 63];
    out += table[(v >> 12) & 63];
    out += table[(v >> 6) & 63];
    out += table[v & 63];
  }
  if (i < in.size()) {
    const bool two = i + 1 < in.size();
    const unsigned v =
        (static_cast<unsigned char>(in[i]) << 16) | (two ? static_cast<unsigned char>(in[i + 1]) << 8 : 0);
    out += table[(v >> 18) & 63];
    out += table[(v >> 12) & 63];
    out += two ? table[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
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

std::vector<json> read_metrics_lines(const fs::path& path) {
  std::vector<json> lines;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    try {
      json j = json::parse(line);
      if (j.is_object() && j.contains("step") && j["step"].is_number()) lines.push_back(std::move(j));
    } catch (const std::exception&) {
      continue;
    }
  }
  return lines;
}

namespace {

std::string now_text() {
  const std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", std::gmtime(&t));
  return buf;
}

// At most ~600 points per series: every k-th line, always keeping the last.
std::vector<size_t> thinned(size_t n, size_t most = 600) {
  std::vector<size_t> idx;
  const size_t every = std::max<size_t>(1, (n + most - 1) / most);
  for (size_t i = 0; i < n; i += every) idx.push_back(i);
  if (n && idx.back() != n - 1) idx.push_back(n - 1);
  return idx;
}

SvgSeries series_of(const std::vector<json>& lines, const std::string& key, std::string label, std::string color = {},
                    bool dashed = false) {
  SvgSeries s;
  s.label = std::move(label);
  s.color = std::move(color);
  s.dashed = dashed;
  for (size_t i : thinned(lines.size())) {
    const auto& l = lines[i];
    if (!l.contains(key) || !l[key].is_number()) continue;
    s.x.push_back(l["step"].get<double>());
    s.y.push_back(l[key].get<double>());
  }
  return s;
}

SvgChart make_chart(std::string title, int width = 560, int height = 280) {
  SvgChart c;
  c.title = std::move(title);
  c.width = width;
  c.height = height;
  return c;
}

// True when every finite value of the series (SvgSeries or LineSeries) is positive and there is one.
template <class Series>
bool all_positive(const std::vector<Series>& series) {
  bool any = false;
  for (const auto& s : series)
    for (double y : s.y) {
      if (!std::isfinite(y)) continue;
      if (y <= 0) return false;
      any = true;
    }
  return any;
}

bool has_key(const std::vector<json>& lines, const std::string& key) {
  return std::any_of(lines.begin(), lines.end(), [&](const json& l) { return l.contains(key) && l[key].is_number(); });
}

// The per-dimension measure the constraint is about: the scheduler's "measure" option when it
// has one (nll or squared_error), else the squared error.
std::string constraint_key(const json& config) {
  try {
    if (config.at("scheduler").at("options").at("measure").get<std::string>() == "nll") return "nll_per_dim";
  } catch (const std::exception&) {
  }
  return "squared_error_per_dim";
}

// The measure of a set of runs' constraint: that of the first run whose scheduler names one.
std::string runs_constraint_key(const std::vector<const RunRecord*>& runs) {
  for (const auto* r : runs) {
    const json cfg = read_json_or_null(r->dir / "config.json");
    if (cfg.is_object() && cfg.contains("scheduler") && cfg["scheduler"].contains("options") &&
        cfg["scheduler"]["options"].contains("measure"))
      return constraint_key(cfg);
  }
  return "squared_error_per_dim";
}

const char* const kStyle = R"(<style>
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;margin:0;background:#f6f7f9;color:#1d2330}
main{max-width:1220px;margin:0 auto;padding:20px 28px 40px}
h1{font-size:24px;margin:6px 0 4px}h2{font-size:18px;margin:28px 0 10px;border-bottom:1px solid #d8dce3;padding-bottom:4px}
.meta{color:#4a5263;font-size:14px;margin:4px 0}.desc{font-size:14px;max-width:900px}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;font-size:13px;font-weight:600;color:#fff;background:#6b7280}
.completed{background:#15803d}.failed{background:#b91c1c}.interrupted,.running,.created,.pending{background:#b45309}
.error{background:#fdecec;border:1px solid #f3b4b4;color:#7f1d1d;padding:8px 12px;border-radius:6px;font-size:13px;margin:8px 0;white-space:pre-wrap;word-break:break-word}
table{border-collapse:collapse;background:#fff;font-size:13px;margin:6px 0}th,td{border:1px solid #d8dce3;padding:4px 9px;text-align:left;vertical-align:top}
th{background:#eef1f5}th.num{text-align:right}.sub{font-weight:400;color:#5b6475;font-size:11px}
td.axis{white-space:nowrap}.wide{overflow-x:auto;max-width:100%}td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}td.best{font-weight:700;background:#e7f6ea}
.cards{display:flex;flex-wrap:wrap;gap:12px;align-items:flex-start}.card{margin:0}
.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(560px,1fr));gap:14px}
.chart{background:#fff;border:1px solid #d8dce3;border-radius:6px;max-width:100%;height:auto}
figure{display:inline-block;margin:0 14px 14px 0;background:#fff;border:1px solid #d8dce3;border-radius:6px;padding:8px;vertical-align:top}
figure img{max-width:100%;height:auto;display:block;image-rendering:auto}figcaption{font-size:12px;color:#4a5263;margin-top:4px}
pre{background:#fff;border:1px solid #d8dce3;border-radius:6px;padding:10px;font-size:12px;overflow:auto;max-height:640px}
.note{font-size:12px;color:#4a5263;max-width:900px}footer{margin-top:30px;font-size:12px;color:#7a8292}
a{color:#1d4ed8}
</style>)";

std::string page(const std::string& title, const std::string& body) {
  return "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>" + html_escape(title) +
         "</title>\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n" + kStyle +
         "</head>\n<body><main>\n" + body +
         fmt::format("<footer>written by priorlab {} on {}</footer>\n</main></body></html>\n", PRIORLAB_VERSION_STRING,
                     now_text());
}

std::string badge(const std::string& status) {
  const std::string s = status.empty() ? "unknown" : status;
  return fmt::format(R"(<span class="badge {}">{}</span>)", html_escape(s), html_escape(s));
}

std::string mime_of(const fs::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  if (ext == ".png") return "image/png";
  if (ext == ".jpg" || ext == ".jpeg") return "image/jpeg";
  if (ext == ".gif") return "image/gif";
  if (ext == ".webp") return "image/webp";
  if (ext == ".svg") return "image/svg+xml";
  return "";
}

std::string value_text(const json& v) {
  if (v.is_number_integer()) return std::to_string(v.get<std::int64_t>());
  if (v.is_number()) return format_number(v.get<double>());
  if (v.is_string()) return v.get<std::string>();
  return v.dump();
}

// The value at a JSON pointer as text, "?" when absent.
std::string text_at(const json& j, const std::string& pointer) {
  const json::json_pointer p(pointer);
  return j.contains(p) ? value_text(j.at(p)) : "?";
}

// What a run's report is made from: the files of its folder, read once.
struct RunFiles {
  fs::path dir;
  json config, run, summary;
  std::vector<json> lines;  // metrics.jsonl
};

// Reads config.json, run.json, summary.json and metrics.jsonl (null or empty when missing).
RunFiles read_run_files(const fs::path& dir) {
  RunFiles f;
  f.dir = dir;
  f.config = read_json_or_null(dir / "config.json");
  f.run = read_json_or_null(dir / "run.json");
  f.summary = read_json_or_null(dir / "summary.json");
  f.lines = read_metrics_lines(dir / "metrics.jsonl");
  return f;
}

// A section of summary.json ("constraint_guard", "collapse"); null when absent.
json summary_section(const json& summary, const char* key) {
  return summary.is_object() ? summary.value(key, json()) : json();
}

// The line under the title: status, steps, training time, dates, plugins and seed.
std::string run_meta(const RunFiles& f, const std::string& status) {
  const json &run = f.run, &summary = f.summary;
  std::string meta = badge(status);
  if (run.is_object()) {
    meta += fmt::format(" &nbsp;step {} of {}", value_text(run.value("step", json(0))),
                        value_text(run.value("iterations", json("?"))));
    if (summary.is_object() && summary.contains("wall_seconds") && summary["wall_seconds"].is_number())
      meta += " &nbsp;·&nbsp; training time " + Progress::clock(summary["wall_seconds"].get<double>());
    else if (!f.lines.empty() && f.lines.back().contains("seconds") && f.lines.back()["seconds"].is_number())
      meta += " &nbsp;·&nbsp; training time " + Progress::clock(f.lines.back()["seconds"].get<double>());
    meta += fmt::format(" &nbsp;·&nbsp; started {} &nbsp;·&nbsp; updated {}", html_escape(run.value("started", "?")),
                        html_escape(run.value("updated", "?")));
  }
  if (f.config.is_object())
    meta += fmt::format(" &nbsp;·&nbsp; {} prior, {} scheduler, seed {}",
                        html_escape(text_at(f.config, "/prior/plugin")),
                        html_escape(text_at(f.config, "/scheduler/plugin")), html_escape(text_at(f.config, "/seed")));
  return meta;
}

// The run's error, the summary's other errors, the guard's warning and a collapse verdict, each in a box.
std::string run_errors_html(const RunFiles& f) {
  const json &run = f.run, &summary = f.summary;
  std::string b;
  if (run.is_object() && run.contains("error") && run["error"].is_string())
    b += "<div class=\"error\">" + html_escape(run["error"].get<std::string>()) + "</div>\n";
  if (summary.is_object() && summary.contains("errors") && summary["errors"].is_array())
    for (const auto& e : summary["errors"])
      if (e.is_string() && !(run.is_object() && run.value("error", "") == e.get<std::string>()))
        b += "<div class=\"error\">" + html_escape(e.get<std::string>()) + "</div>\n";
  // The constraint guard (DESIGN §4): a threshold that cannot bind is said where it is seen first.
  const json guard = summary_section(summary, "constraint_guard");
  if (guard.is_object() && guard.contains("warning") && guard["warning"].is_string())
    b += "<div class=\"error\">" + html_escape(guard["warning"].get<std::string>()) + "</div>\n";
  // The collapse diagnostics: a dead stochastic layer is said as plainly as a guard warning.
  const json collapse = summary_section(summary, "collapse");
  if (collapse.is_object() && !collapse.value("all_alive", true) && collapse.contains("verdict"))
    b += "<div class=\"error\">" + html_escape(collapse["verdict"].get<std::string>()) + "</div>\n";
  return b;
}

// One small table of metrics under a heading; nothing for an empty section.
std::string metrics_card(const std::string& section, const json& metrics) {
  if (!metrics.is_object() || metrics.empty()) return "";
  std::string b = fmt::format("<table class=\"card\"><tr><th colspan=\"2\">{}</th></tr>\n", html_escape(section));
  for (const auto& [k, v] : metrics.items()) {
    if (k == "step" || k == "phase" || k == "train_prior") continue;
    b += fmt::format("<tr><td>{}</td><td class=\"num\">{}</td></tr>\n", html_escape(k), html_escape(value_text(v)));
  }
  return b + "</table>\n";
}

// Metrics: one small table per evaluator, side by side.
std::string run_metrics_html(const RunFiles& f) {
  const json& summary = f.summary;
  std::string b = "<h2 id=\"metrics\">Metrics</h2>\n";
  if (!summary.is_object())
    return b + "<p class=\"note\">No summary.json: the run has not finished its evaluators.</p>\n";
  b += "<div class=\"cards\">\n";
  if (summary.contains("evaluators") && summary["evaluators"].is_object())
    for (const auto& [e, m] : summary["evaluators"].items()) b += metrics_card(e, m);
  b += metrics_card("train (last interval)", summary.value("train", json()));
  const json guard = summary_section(summary, "constraint_guard");
  if (guard.is_object()) {  // its warning stands above, in full
    json numbers = guard;
    numbers.erase("warning");
    b += metrics_card("constraint guard", numbers);
  }
  return b + "</div>\n";
}

// Every layer above z (collapse diagnostics): its KL to its prior, log scale where positive. None without such layers.
void add_upper_layers_chart(const std::vector<json>& lines, std::vector<SvgChart>& charts) {
  std::set<std::string> upper_layers;
  for (const auto& l : lines)
    for (const auto& [k, v] : l.items())
      if (k.size() > 3 && k.compare(k.size() - 3, 3, "_kl") == 0 && v.is_number()) upper_layers.insert(k.substr(0, k.size() - 3));
  if (upper_layers.empty()) return;
  SvgChart upper = make_chart("KL of each layer above z to its prior (nats per example)");
  size_t colour = 5;
  for (const auto& layer : upper_layers)
    upper.series.push_back(series_of(lines, layer + "_kl", "KL(q(" + layer + "|z) || p(" + layer + "))",
                                     palette_color(colour++)));
  upper.log_y = all_positive(upper.series);
  charts.push_back(upper);
}

// The constraint per data dimension: C_hat and its threshold where logged, and the measure's interval mean.
SvgChart constraint_chart(const std::vector<json>& lines, const json& config) {
  SvgChart constraint = make_chart("constraint per data dimension");
  if (has_key(lines, "C_hat")) {
    constraint.series.push_back(series_of(lines, "C_hat", "C_hat (running average)", palette_color(4)));
    if (has_key(lines, "threshold"))
      constraint.series.push_back(series_of(lines, "threshold", "threshold (kappa^2)", "#555555", true));
  }
  const std::string measure = constraint_key(config);
  constraint.series.push_back(
      series_of(lines, measure, measure + " (interval mean)", palette_color(0), has_key(lines, "C_hat")));
  if (has_key(lines, "C_hat")) constraint.series.back().opacity = 0.55;
  constraint.log_y = all_positive(constraint.series);
  return constraint;
}

// Training curves: loss and distortion, rate, the upper layers' KL, beta, the constraint.
std::string run_curves_html(const RunFiles& f) {
  const auto& lines = f.lines;
  std::string b = "<h2 id=\"curves\">Training curves</h2>\n";
  if (lines.empty()) return b + "<p class=\"note\">No metrics.jsonl lines yet.</p>\n";
  std::vector<SvgChart> charts;
  SvgChart loss = make_chart("loss, distortion (nats per example)");
  loss.series = {series_of(lines, "loss", "loss"),
                 series_of(lines, "distortion", "distortion", palette_color(1), true)};
  charts.push_back(loss);
  SvgChart rate = make_chart("rate (nats per example)");
  rate.series = {series_of(lines, "rate", "rate", palette_color(2))};
  charts.push_back(rate);
  add_upper_layers_chart(lines, charts);
  SvgChart beta = make_chart("beta");
  beta.series = {series_of(lines, "beta", "beta", palette_color(3))};
  beta.log_y = all_positive(beta.series);
  charts.push_back(beta);
  charts.push_back(constraint_chart(lines, f.config));
  b += "<div class=\"charts\">\n";
  for (const auto& c : charts) b += svg_line_chart(c) + "\n";
  return b + "</div>\n";
}

// The pictures to show: those the summary lists, then any other image under artefacts/.
std::vector<fs::path> run_pictures(const RunFiles& f) {
  std::vector<fs::path> pictures;
  std::set<std::string> seen;
  if (f.summary.is_object() && f.summary.contains("artefacts") && f.summary["artefacts"].is_array())
    for (const auto& a : f.summary["artefacts"])
      if (a.is_string() && seen.insert(fs::path(a.get<std::string>()).lexically_normal().string()).second)
        pictures.push_back(f.dir / a.get<std::string>());
  std::error_code ec;
  std::vector<fs::path> extra;
  if (fs::is_directory(f.dir / "artefacts", ec))
    for (const auto& e : fs::directory_iterator(f.dir / "artefacts", ec)) {
      const auto rel = fs::path("artefacts") / e.path().filename();
      const std::string fname = e.path().filename().string();
      if (e.is_regular_file(ec) && !mime_of(e.path()).empty() && fname.find(".tmp") == std::string::npos &&
          !seen.count(rel.lexically_normal().string()))
        extra.push_back(e.path());
    }
  std::sort(extra.begin(), extra.end());
  pictures.insert(pictures.end(), extra.begin(), extra.end());
  return pictures;
}

// Pictures: each inline (base64), or a note when its file cannot be read.
std::string run_pictures_html(const RunFiles& f) {
  const std::vector<fs::path> pictures = run_pictures(f);
  std::error_code ec;
  std::string b = "<h2 id=\"pictures\">Pictures</h2>\n";
  if (pictures.empty()) b += "<p class=\"note\">No pictures.</p>\n";
  for (const auto& p : pictures) {
    const std::string mime = mime_of(p);
    std::string bytes;
    try {
      bytes = read_file(p.string());
    } catch (const std::exception&) {
      b += fmt::format("<p class=\"note\">missing picture: {}</p>\n", html_escape(p.filename().string()));
      continue;
    }
    if (mime.empty()) continue;
    b += fmt::format(R"(<figure><img src="data:{};base64,{}" alt="{}"><figcaption>{}</figcaption></figure>)", mime,
                     base64_encode(bytes), html_escape(p.filename().string()),
                     html_escape(fs::relative(p, f.dir, ec).string()));
    b += "\n";
  }
  return b;
}

}  // namespace

std::string run_report_html(const fs::path& dir) {
  const RunFiles f = read_run_files(dir);
  const json &config = f.config, &run = f.run, &summary = f.summary;
  const std::string name = config.is_object() ? config.value("name", dir.filename().string()) : dir.filename().string();
  std::string status = run.is_object() ? run.value("status", "") : "";
  if (summary.is_object() && summary.value("status", "") == "failed") status = "failed";

  std::string b = fmt::format("<h1>run {}</h1>\n", html_escape(name));
  b += "<p class=\"meta\">" + run_meta(f, status) + "</p>\n";
  b += "<p class=\"meta\"><a href=\"#metrics\">metrics</a> · <a href=\"#curves\">training curves</a> · "
       "<a href=\"#pictures\">pictures</a> · <a href=\"#config\">configuration</a></p>\n";
  if (config.is_object() && !config.value("description", "").empty())
    b += "<p class=\"desc\">" + html_escape(config["description"].get<std::string>()) + "</p>\n";
  b += run_errors_html(f);
  b += run_metrics_html(f);
  b += run_curves_html(f);
  b += run_pictures_html(f);
  b += "<h2 id=\"config\">Configuration (config.json, every default filled in)</h2>\n";
  b += config.is_object() ? "<pre>" + html_escape(config.dump(2)) + "</pre>\n"
                          : "<p class=\"note\">No config.json.</p>\n";
  return page("priorlab run " + name, b);
}

void write_run_report(const fs::path& run_dir) {
  write_file_atomic((run_dir / "report.html").string(), run_report_html(run_dir));
}

namespace {

// The runs a sweep planned (its status.json), in plan order, beside the names of those found on disk.
struct FolderRuns {
  std::map<std::string, json> planned;
  std::vector<std::string> plan_order;
  std::set<std::string> on_disk;
};

// The sweep's plan from its state (none for a plain folder of runs), and the runs found.
FolderRuns folder_runs(const Comparison& c, const json& state) {
  FolderRuns f;
  if (state.is_object() && state.contains("runs") && state["runs"].is_array())
    for (const auto& r : state["runs"])
      if (r.is_object() && r.contains("name")) f.planned[r["name"]] = r, f.plan_order.push_back(r["name"]);
  for (const auto& r : c.runs) f.on_disk.insert(r.name);
  return f;
}

// The line of run counts per status, the runs not started yet counted too.
std::string folder_status_html(const Comparison& c, const FolderRuns& f) {
  std::map<std::string, int> counts;
  for (const auto& r : c.runs) ++counts[r.status.empty() ? "unknown" : r.status];
  size_t not_started = 0;
  for (const auto& n : f.plan_order)
    if (!f.on_disk.count(n)) ++counts[f.planned.at(n).value("status", "pending")], ++not_started;
  std::string meta = fmt::format("{} runs:", c.runs.size() + not_started);
  for (const auto& [s, n] : counts) meta += fmt::format(" &nbsp;{} {}", badge(s), n);
  return "<p class=\"meta\">" + meta + "</p>\n";
}

// The comparison table's header row: the axes, n, and each metric with its arrow.
std::string comparison_head_html(const Comparison& c) {
  std::string b = "<tr>";
  for (const auto& a : c.axis_columns) b += "<th>" + html_escape(a) + "</th>";
  b += "<th>n</th>";
  for (size_t j = 0; j < c.metrics.size(); ++j) {
    // "evaluator." small above the metric's own name, so wide names do not stretch the table.
    const auto dot = c.metrics[j].rfind('.');
    const std::string head = dot == std::string::npos
                                 ? html_escape(c.metrics[j])
                                 : "<span class=\"sub\">" + html_escape(c.metrics[j].substr(0, dot + 1)) +
                                       "</span><br>" + html_escape(c.metrics[j].substr(dot + 1));
    b += "<th class=\"num\">" + head +
         (c.directions[j] == Direction::kLower    ? " ↓"
          : c.directions[j] == Direction::kHigher ? " ↑"
                                                  : "") +
         "</th>";
  }
  return b + "</tr>\n";
}

// Row i of the comparison table: its axes (the first with the row's colour), n, and each metric's cell.
std::string comparison_row_html(const ComparisonRow& row, size_t i) {
  std::string b = "<tr>";
  for (size_t a = 0; a < row.axes.size(); ++a)
    b += fmt::format(R"(<td class="axis">{}{}</td>)",
                     a == 0 ? fmt::format(R"(<span style="color:{}">&#9632;</span> )", palette_color(i)) : "",
                     html_escape(row.axes[a]));
  b += fmt::format(R"(<td class="num">{}</td>)", row.runs.size());
  for (const auto& cell : row.cells) {
    if (!cell) {
      b += R"(<td class="num">–</td>)";
      continue;
    }
    std::string text = format_number(cell->mean);
    if (cell->n > 1) text += " ± " + format_number(cell->std);
    if (cell->n != static_cast<int>(row.runs.size())) text += fmt::format(" (n={})", cell->n);
    b += fmt::format(R"(<td class="num{}">{}</td>)", cell->best ? " best" : "", html_escape(text));
  }
  return b + "</tr>\n";
}

// Comparison table.
std::string comparison_table_html(const Comparison& c) {
  std::string b = "<h2 id=\"comparison\">Comparison</h2>\n";
  if (c.rows.empty()) return b + "<p class=\"note\">No run has a summary yet.</p>\n";
  b += "<div class=\"wide\"><table>" + comparison_head_html(c);
  for (size_t i = 0; i < c.rows.size(); ++i) b += comparison_row_html(c.rows[i], i);
  b += "</table></div>\n<p class=\"note\">Mean ± sample standard deviation over the seeds of each combination; n "
       "runs per "
       "row. Bold, green: the best combination per metric (↓ lower is better, ↑ higher is better; metrics without an "
       "arrow have no rule). The same table: comparison.md, comparison.csv.</p>\n";
  return b;
}

// The runs whose curves are drawn, with their colour index: the table's, then the incomplete ones.
std::vector<std::pair<const RunRecord*, size_t>> folder_curves(const Comparison& c) {
  std::vector<std::pair<const RunRecord*, size_t>> curves;  // run, colour index
  for (size_t i = 0; i < c.rows.size(); ++i)
    for (const auto* r : c.rows[i].runs) curves.emplace_back(r, i);
  for (const auto* r : c.incomplete) curves.emplace_back(r, c.rows.size() + curves.size());
  return curves;
}

// A dashed grey line across the constraint chart at each threshold the runs logged.
void add_threshold_lines(SvgChart& constraint, const std::set<double>& thresholds) {
  for (double t : thresholds) {
    SvgSeries s;
    s.label = "threshold " + format_number(t);
    s.color = "#444444";
    s.dashed = true;
    double x0 = INFINITY, x1 = -INFINITY;
    for (const auto& q : constraint.series)
      for (double x : q.x) x0 = std::min(x0, x), x1 = std::max(x1, x);
    if (x0 <= x1) s.x = {x0, x1}, s.y = {t, t};
    constraint.series.push_back(s);
  }
}

// Training curves of every run, one colour per combination.
std::string folder_curves_html(const Comparison& c) {
  const auto curves = folder_curves(c);
  if (curves.empty()) return "";
  std::string b = "<h2 id=\"curves\">Training curves</h2>\n";
  std::vector<const RunRecord*> curve_runs;
  for (const auto& [r, i] : curves) curve_runs.push_back(r);
  const std::string measure = runs_constraint_key(curve_runs);
  SvgChart loss = make_chart("loss (nats per example)", 600, 320);
  SvgChart beta = make_chart("beta", 600, 320);
  SvgChart constraint = make_chart(measure + " (interval mean) and thresholds", 600, 320);
  std::set<double> thresholds;
  std::set<std::string> labelled;
  for (const auto& [r, i] : curves) {
    const auto lines = read_metrics_lines(r->dir / "metrics.jsonl");
    const bool in_table = i < c.rows.size();
    const std::string label =
        in_table ? c.rows[i].label : r->name + " (" + (r->status.empty() ? "?" : r->status) + ")";
    const std::string first = labelled.insert(label).second ? label : "";
    const std::string color = palette_color(i);
    const bool dashed = i >= 10;  // palette repeats: tell the second ten apart
    loss.series.push_back(series_of(lines, "loss", first, color, dashed));
    beta.series.push_back(series_of(lines, "beta", first, color, dashed));
    constraint.series.push_back(series_of(lines, measure, first, color, dashed));
    for (auto* s : {&loss.series.back(), &beta.series.back(), &constraint.series.back()}) s->opacity = 0.8;
    for (auto it = lines.rbegin(); it != lines.rend(); ++it)
      if (it->contains("threshold") && (*it)["threshold"].is_number()) {
        thresholds.insert((*it)["threshold"].get<double>());
        break;
      }
  }
  add_threshold_lines(constraint, thresholds);
  beta.log_y = all_positive(beta.series);
  constraint.log_y = all_positive(constraint.series);
  loss.log_y = false;
  return b + "<div class=\"charts\">\n" + svg_line_chart(loss) + "\n" + svg_line_chart(beta) + "\n" +
         svg_line_chart(constraint) + "\n</div>\n";
}

// A line of the runs table; the name links to href when it is set.
struct RunRow {
  std::string name, href, status, steps, time, error;
};

// One line of the runs table.
std::string run_row_html(const RunRow& row) {
  return fmt::format(
      "<tr><td>{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td></tr>\n",
      row.href.empty() ? html_escape(row.name)
                       : fmt::format(R"(<a href="{}">{}</a>)", html_escape(row.href), html_escape(row.name)),
      badge(row.status), html_escape(row.steps), html_escape(row.time), html_escape(row.error));
}

// The runs found, in the sweep's plan order; those it did not plan after them, as found.
std::vector<const RunRecord*> runs_in_plan_order(const Comparison& c, const std::vector<std::string>& plan_order) {
  std::vector<const RunRecord*> sorted;
  for (const auto& r : c.runs) sorted.push_back(&r);
  std::map<std::string, size_t> rank;
  for (size_t i = 0; i < plan_order.size(); ++i) rank[plan_order[i]] = i;
  std::stable_sort(sorted.begin(), sorted.end(), [&](const RunRecord* a, const RunRecord* b) {
    const size_t ra = rank.count(a->name) ? rank[a->name] : plan_order.size();
    const size_t rb = rank.count(b->name) ? rank[b->name] : plan_order.size();
    return ra < rb;
  });
  return sorted;
}

// Every run, linked.
std::string folder_runs_html(const Comparison& c, const FolderRuns& f) {
  std::error_code ec;
  std::string b = "<h2 id=\"runs\">Runs</h2>\n<table><tr><th>run</th><th>status</th><th>steps</th><th>training "
                  "time</th><th>error</th></tr>\n";
  for (const auto* r : runs_in_plan_order(c, f.plan_order)) {
    const bool has_report = fs::exists(r->dir / "report.html", ec);
    const auto rel = fs::relative(r->dir / "report.html", c.dir, ec).generic_string();
    const json run = read_json_or_null(r->dir / "run.json");
    std::string steps = run.is_object() ? fmt::format("{} / {}", value_text(run.value("step", json(0))),
                                                      value_text(run.value("iterations", json("?"))))
                                        : "";
    std::string time =
        r->metrics.contains("wall_seconds") ? Progress::clock(r->metrics["wall_seconds"].get<double>()) : "";
    std::string error = r->error;
    if (f.planned.count(r->name) && error.empty()) error = f.planned.at(r->name).value("error", "");
    b += run_row_html({fs::relative(r->dir, c.dir, ec).generic_string(), has_report ? rel : "", r->status, steps, time,
                       error});
  }
  for (const auto& n : f.plan_order)
    if (!f.on_disk.count(n))
      b += run_row_html(
          {n, "", f.planned.at(n).value("status", "pending"), "", "", f.planned.at(n).value("error", "")});
  return b + "</table>\n";
}

}  // namespace

std::string folder_report_html(const Comparison& c, const json& state) {
  const std::string title = state.is_object() && state.contains("name") ? state["name"].get<std::string>()
                                                                        : fs::absolute(c.dir).filename().string();
  std::string b = fmt::format("<h1>{} {}</h1>\n", state.is_object() ? "sweep" : "runs in", html_escape(title));
  if (state.is_object() && !state.value("description", "").empty())
    b += "<p class=\"desc\">" + html_escape(state["description"].get<std::string>()) + "</p>\n";

  // Status of every run: those found on disk, and those the sweep has not started.
  const FolderRuns runs = folder_runs(c, state);
  b += folder_status_html(c, runs);
  b += comparison_table_html(c);
  b += folder_curves_html(c);
  b += folder_runs_html(c, runs);
  return page((state.is_object() ? "priorlab sweep " : "priorlab runs in ") + title, b);
}

std::string write_comparison_curves(const Comparison& c) {
  std::vector<const RunRecord*> runs;
  for (const auto& row : c.rows) runs.insert(runs.end(), row.runs.begin(), row.runs.end());
  const std::string measure = runs_constraint_key(runs);
  const std::string what = " (interval mean); thresholds dashed grey";
  LinePanel beta{{}, "beta", true}, constraint{{}, measure + what, true};
  std::set<double> thresholds;
  bool any = false;
  // Legend labels: the axis values ("0.5,1.5e-3" for "sigma=0.5,kappa2=1.5e-3"), with the seed when a
  // combination has several runs; the axis names go into the panel titles.
  std::map<const RunRecord*, std::string> labels;
  for (const auto& row : c.rows)
    for (const auto* r : row.runs) {
      std::string label;
      for (const auto& v : row.axes) label += (label.empty() ? "" : ",") + v;
      if (label.empty()) label = row.label;
      const auto seed = r->name.rfind("seed");
      if (row.runs.size() > 1) label += " " + (seed == std::string::npos ? r->name : r->name.substr(seed));
      labels[r] = label;
    }
  std::string axes;
  for (const auto& a : c.axis_columns) axes += (axes.empty() ? "" : ",") + a;
  if (!axes.empty()) beta.title += " by " + axes, constraint.title = measure + " by " + axes + what;
  size_t index = 0;
  for (const auto* r : runs) {
    const bool dashed = (index++ / 10) % 2 == 1;  // the palette has ten colours: tell the second ten apart
    LineSeries b{{}, {}, labels[r], dashed}, k{{}, {}, labels[r], dashed};
    for (const auto& l : read_metrics_lines(r->dir / "metrics.jsonl")) {
      if (!l.contains("step") || !l["step"].is_number()) continue;
      const double step = l["step"].get<double>();
      if (l.contains("beta") && l["beta"].is_number()) b.x.push_back(step), b.y.push_back(l["beta"].get<double>());
      if (l.contains(measure) && l[measure].is_number()) k.x.push_back(step), k.y.push_back(l[measure].get<double>());
      if (l.contains("threshold") && l["threshold"].is_number()) thresholds.insert(l["threshold"].get<double>());
    }
    any = any || !b.x.empty() || !k.x.empty();
    beta.series.push_back(std::move(b));
    constraint.series.push_back(std::move(k));
  }
  if (!any) return "";
  std::vector<ReferenceLine> lines;
  for (double t : thresholds) lines.push_back({t, "threshold " + format_number(t)});
  beta.log_y = all_positive(beta.series);
  constraint.log_y = all_positive(constraint.series) && std::all_of(thresholds.begin(), thresholds.end(),
                                                                     [](double t) { return t > 0; });
  const fs::path path = c.dir / "comparison_curves.png";
  return save_line_panels(path.string(), {beta, constraint}, "step", {{}, lines}) ? path.string() : "";
}

std::vector<HeatMap> comparison_heatmaps(const Comparison& c) {
  if (c.axis_columns.size() != 2 || c.metrics.empty() || c.rows.empty()) return {};
  // The axes' values in the order the table meets them (a sweep's plan order).
  std::vector<std::string> rows, columns;
  for (const auto& row : c.rows) {
    if (std::find(rows.begin(), rows.end(), row.axes[0]) == rows.end()) rows.push_back(row.axes[0]);
    if (std::find(columns.begin(), columns.end(), row.axes[1]) == columns.end()) columns.push_back(row.axes[1]);
  }
  std::vector<HeatMap> panels;
  for (size_t j = 0; j < c.metrics.size(); ++j) {
    HeatMap h;
    // The title says which end is drawn bright: the better one, or the low one when the
    // metric has no direction (rate, beta).
    h.title = c.metrics[j] + (c.directions[j] == Direction::kLower    ? " (lower is better: bright)"
                              : c.directions[j] == Direction::kHigher ? " (higher is better: bright)"
                                                                       : " (no better end: bright = low)");
    h.row_axis = c.axis_columns[0];
    h.column_axis = c.axis_columns[1];
    h.row_labels = rows;
    h.column_labels = columns;
    h.lower_is_better = c.directions[j] != Direction::kHigher;
    h.values.assign(rows.size(), std::vector<double>(columns.size(), std::nan("")));
    for (const auto& row : c.rows) {
      const auto& cell = row.cells[j];
      if (!cell) continue;
      const auto r = std::find(rows.begin(), rows.end(), row.axes[0]) - rows.begin();
      const auto k = std::find(columns.begin(), columns.end(), row.axes[1]) - columns.begin();
      h.values[r][k] = cell->mean;
    }
    panels.push_back(std::move(h));
  }
  return panels;
}

std::string write_comparison_heatmaps(const Comparison& c) {
  const auto panels = comparison_heatmaps(c);
  if (panels.empty()) return "";
  const fs::path path = c.dir / "comparison_heatmap.png";
  return save_heatmaps(path.string(), panels) ? path.string() : "";
}

void write_folder_report(const Comparison& c, const json& state) {
  write_file_atomic((c.dir / "report.html").string(), folder_report_html(c, state));
}

int write_reports(const fs::path& dir, const Registry* registry) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) throw Error(dir.string(), "not a folder");
  if (fs::exists(dir / "config.json", ec)) {
    write_run_report(dir);
    std::cout << "report: " << (dir / "report.html").string() << std::endl;
    return 0;
  }
  const Comparison c = compare_runs(dir, {}, registry);
  for (const auto& r : c.runs) write_run_report(r.dir);
  json state = read_json_or_null(dir / "status.json");
  if (!state.is_object() || !state.contains("runs")) state = nullptr;
  write_folder_report(c, state);
  std::cout << fmt::format("report: {} (and {} run reports)", (dir / "report.html").string(), c.runs.size())
            << std::endl;
  return 0;
}

Comparison compare_command(const fs::path& dir, const std::vector<std::string>& metrics, const std::string& paired,
                           const Registry* registry) {
  Comparison c = compare_runs(dir, metrics, registry);
  write_comparison(c);
  const std::string curves = write_comparison_curves(c);
  const std::string heatmap = write_comparison_heatmaps(c);
  std::cout << comparison_markdown(c) << "\ncomparison: " << (c.dir / "comparison.md").string() << ", "
            << (c.dir / "comparison.csv").string() << std::endl;
  if (!curves.empty()) std::cout << "picture: " << curves << std::endl;
  if (!heatmap.empty()) std::cout << "picture: " << heatmap << std::endl;
  if (!paired.empty()) {
    const PairedComparison table = compare_paired(c, paired);
    write_paired(c, table);
    std::cout << "\n" << paired_markdown(table) << "\npaired: " << (c.dir / "comparison_paired.md").string()
              << std::endl;
  }
  return c;
}

}  // namespace priorlab::host
