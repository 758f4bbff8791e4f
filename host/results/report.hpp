// report.html: one self-contained page per run (resolved config, metrics, training curves as
// inline SVG, every picture as a base64 data: URI) and one per folder of runs (a sweep): the
// comparison table, an overlay of the runs' training curves and links to each run's page.
// No scripts, no external fetches: the file can be mailed or opened offline.
// Written in one file per concept: html.cpp (base64, escaping, the page), svg_chart.cpp (the SVG
// line chart), curves.cpp (metrics.jsonl read back), run_report.cpp (one run's page),
// folder_report.cpp (a folder's page), comparison_pictures.cpp (the comparison's PNG pictures)
// and commands.cpp (`priorlab report` and `priorlab compare`).
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "priorlab/plot.hpp"
#include "results/compare.hpp"

namespace priorlab::host {

/// RFC 4648 base64 with padding ("foo" → "Zm9v").
std::string base64_encode(std::string_view bytes);

/// Escapes & < > " ' for HTML text and attribute values.
std::string html_escape(std::string_view text);

struct SvgSeries {
  std::vector<double> x, y;
  std::string label;  ///< legend text; series with an empty label are drawn but not listed
  std::string color;  ///< CSS colour; empty: the palette's next
  bool dashed = false;
  double opacity = 1.0;
};

struct SvgChart {
  std::string title;
  std::string x_label = "step";
  bool log_y = false;  ///< points with y <= 0 are then left out (the line breaks there)
  int width = 560, height = 280;
  std::vector<SvgSeries> series;
};

/// An inline <svg> line chart: axes with ticks (decades on a log scale), one path per series
/// (broken at non-finite values), a legend below the plot. Fewer than one point: a note.
std::string svg_line_chart(const SvgChart& chart);

/// The lines of a metrics.jsonl; a line that does not parse (cut short by a kill) is skipped.
std::vector<nlohmann::json> read_metrics_lines(const std::filesystem::path& path);

/// The report of one run directory (config.json, run.json, summary.json, metrics.jsonl,
/// artefacts/); whatever is missing is said so on the page, so it works for failed runs too.
std::string run_report_html(const std::filesystem::path& run_dir);

/// Writes run_dir/report.html atomically.
void write_run_report(const std::filesystem::path& run_dir);

/// The report of a folder of runs: `state` is the sweep's status.json (name, description, and
/// runs not started yet) or null for a plain folder.
std::string folder_report_html(const Comparison& comparison, const nlohmann::json& state = nullptr);

/// Writes comparison.dir/report.html atomically.
void write_folder_report(const Comparison& comparison, const nlohmann::json& state = nullptr);

/// comparison.dir/comparison_curves.png: beta and the constraint measure (interval means from
/// metrics.jsonl) of every run in the table against the step, one line per run, the thresholds
/// dashed, log scales where all values are positive. Returns the path written, or "" when no run
/// has metrics lines or the build has no pictures.
std::string write_comparison_curves(const Comparison& comparison);

/// The heat-maps of a comparison whose rows span exactly two axes (a sweep over, say, prior x
/// schedule): one panel per metric, rows the first axis's values and columns the second's in
/// table order, each cell the mean over seeds (NaN where no run of that combination reported
/// it). Empty when the table has not two axis columns or no metric.
std::vector<HeatMap> comparison_heatmaps(const Comparison& comparison);

/// comparison.dir/comparison_heatmap.png, drawn from comparison_heatmaps(). Returns the path
/// written, or "" when there is nothing to draw or the build has no pictures.
std::string write_comparison_heatmaps(const Comparison& comparison);

/// `priorlab report DIR`: a run directory gets its report.html; a folder gets one for every run
/// under it and its own (with DIR/status.json as the state when it is a sweep's folder).
/// Prints the paths written; returns an exit code. `registry`: as compare_runs groups runs.
int write_reports(const std::filesystem::path& dir, const Registry* registry = nullptr);

/// `priorlab compare DIR [--metrics a,b] [--paired REF]`: the table (comparison.md, .csv), its
/// pictures, and with `paired` the paired table; prints what the command prints. Returns the
/// comparison (for the Python module, which reads it into a DataFrame).
Comparison compare_command(const std::filesystem::path& dir, const std::vector<std::string>& metrics,
                           const std::string& paired, const Registry* registry);

}  // namespace priorlab::host
