// The pictures of a comparison, as PNG files beside its table: every run's beta and constraint
// curves (write_comparison_curves) and, over two axes, one heat-map per metric
// (comparison_heatmaps, write_comparison_heatmaps).
#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "priorlab/plot.hpp"
#include "results/curves.hpp"
#include "results/report.hpp"

namespace fs = std::filesystem;

namespace priorlab::host {

using detail::all_positive;
using detail::runs_constraint_key;

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
    // Where the cells average different numbers of runs (a sweep that adds seeds to one row and
    // one column), the title says so: a cell of one seed is not as certain as one of three.
    int n_min = 0, n_max = 0;
    for (const auto& row : c.rows)
      if (const auto& cell = row.cells[j]) {
        n_min = n_max == 0 ? cell->n : std::min(n_min, cell->n);
        n_max = std::max(n_max, cell->n);
      }
    const std::string runs_note =
        n_min == n_max ? "" : "; means of " + std::to_string(n_min) + " to " + std::to_string(n_max) + " runs per cell";
    h.title = c.metrics[j] + (c.directions[j] == Direction::kLower    ? " (lower is better: bright"
                              : c.directions[j] == Direction::kHigher ? " (higher is better: bright"
                                                                       : " (no better end: bright = low") +
              runs_note + ")";
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

}  // namespace priorlab::host
