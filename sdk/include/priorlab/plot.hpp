// Small PNG pictures drawn with OpenCV: image grids, scatter plots, line charts, bar charts and heat-maps.
// Evaluators use these so every picture of priorlab looks alike. Each save_* returns true when
// it wrote the file, false when this build has no pictures (PRIORLAB_WITH_OPENCV=OFF): list a
// picture among an evaluator's artefacts only when its save_* returned true. An empty path
// (artefact_path() of an empty artefact_dir: a rank that draws nothing) writes nothing and
// returns false.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "priorlab/export.hpp"

namespace priorlab {

/// False when the SDK was built without OpenCV: every save_* below then writes nothing.
PRIORLAB_API bool pictures_enabled();

/// Tiles images [N, C, H, W] or [N, H, W] (values in [0, 1]) into `columns` columns, each
/// scaled by `zoom`, and writes a PNG atomically.
PRIORLAB_API bool save_image_grid(const std::string& path, const torch::Tensor& images, std::int64_t columns,
                                  std::int64_t zoom = 4);

struct ScatterSeries {
  torch::Tensor points;  ///< [N, 2]
  torch::Tensor values;  ///< [N] colour values (mapped through a cyclic or linear colour map) or undefined
  std::string label;
  bool cyclic = false;   ///< values are angles in [0, 2 pi): use a cyclic colour map
  int radius = 2;
  std::vector<std::string> point_labels;  ///< optional text beside each point
  torch::Tensor segments;  ///< [E, 2, 2] line segments drawn thin under the points (a graph's edges), or undefined
  torch::Tensor polyline;  ///< [P, 2] a path drawn thick over the points, ends marked, or undefined
};

/// One panel per series, side by side, sharing axis limits; writes a PNG atomically.
PRIORLAB_API bool save_scatter_panels(const std::string& path, const std::vector<ScatterSeries>& panels,
                                      const std::string& title);

struct LineSeries {
  std::vector<double> x, y;
  std::string label;
  bool dashed = false;
};

struct LinePanel {
  std::vector<LineSeries> series;
  std::string title;
  bool log_y = false;
};

/// Panels stacked vertically, each with its own y axis; writes a PNG atomically. Series s is
/// drawn in palette_color(s); dash series 10-19 to tell them from 0-9.
PRIORLAB_API bool save_line_panels(const std::string& path, const std::vector<LinePanel>& panels,
                                   const std::string& x_label);

/// A horizontal line across a whole panel, such as a threshold: drawn dashed in dark grey over
/// the series, and listed after them in the legend.
struct ReferenceLine {
  double y = 0;
  std::string label;
};

/// As above, with `references[k]` drawn on panels[k] (a panel without an entry has none); each
/// panel's y range includes its references.
PRIORLAB_API bool save_line_panels(const std::string& path, const std::vector<LinePanel>& panels,
                                   const std::string& x_label,
                                   const std::vector<std::vector<ReferenceLine>>& references);

/// The i-th colour (i mod 10) of the line series of every chart, PNG and the HTML reports':
/// matplotlib's tab10, as "#rrggbb".
PRIORLAB_API std::string palette_color(size_t i);

/// A bar per value (in the given order), labelled by `labels` when given, with a dashed
/// horizontal line at `threshold` (when finite) on a log scale when `log_y`; writes a PNG atomically.
PRIORLAB_API bool save_bar_chart(const std::string& path, const std::vector<double>& values,
                                 const std::vector<std::string>& labels, double threshold, bool log_y,
                                 const std::string& title);

/// One metric over two axes of a sweep (e.g. prior x schedule): cell (r, c) is coloured by
/// values[r][c] on the panel's own scale and printed with its number; NaN (no run) is left blank.
struct HeatMap {
  std::string title;                        ///< drawn above the panel (ASCII: the font has no arrows)
  std::string row_axis, column_axis;        ///< the two axes' names
  std::vector<std::string> row_labels, column_labels;
  std::vector<std::vector<double>> values;  ///< [rows][columns]
  bool lower_is_better = true;              ///< the better end of the scale is drawn bright
};

/// Panels stacked vertically, one per metric; writes a PNG atomically. Throws Error when a
/// panel's values do not match its labels.
PRIORLAB_API bool save_heatmaps(const std::string& path, const std::vector<HeatMap>& panels);

}  // namespace priorlab
