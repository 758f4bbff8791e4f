// The report of a folder of runs, a sweep's or any (folder_report_html, write_folder_report): one
// writer per section: the run counts per status, the comparison table, every run's training
// curves overlaid, the runs linked to their own pages.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "engine/progress.hpp"
#include "pipeline/pipeline.hpp"
#include "priorlab/io.hpp"
#include "priorlab/plot.hpp"
#include "results/curves.hpp"
#include "results/html.hpp"
#include "results/report.hpp"

namespace fs = std::filesystem;
using nlohmann::json;

namespace priorlab::host {

using detail::all_positive;
using detail::badge;
using detail::make_chart;
using detail::page;
using detail::runs_constraint_key;
using detail::series_of;
using detail::value_text;

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

void write_folder_report(const Comparison& c, const json& state) {
  write_file_atomic((c.dir / "report.html").string(), folder_report_html(c, state));
}

}  // namespace priorlab::host
