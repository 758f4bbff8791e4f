// Training curves read back from metrics.jsonl, as the reports and the comparison pictures draw
// them (internal to the results room): one metric's series, a chart of a given size, whether a
// log scale fits, the measure a run's constraint is about. read_metrics_lines, in curves.cpp, is
// public: results/report.hpp declares it.
#pragma once

#include <cmath>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "results/compare.hpp"
#include "results/report.hpp"

namespace priorlab::host::detail {

/// One metric of metrics.jsonl lines against the step, at most ~600 points (every k-th line,
/// the last kept); lines without the metric are left out.
SvgSeries series_of(const std::vector<nlohmann::json>& lines, const std::string& key, std::string label,
                    std::string color = {}, bool dashed = false);

/// An empty chart with a title and a size.
SvgChart make_chart(std::string title, int width = 560, int height = 280);

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

// The per-dimension measure the constraint is about: the scheduler's "measure" option when it
// has one (nll or squared_error), else the squared error.
std::string constraint_key(const nlohmann::json& config);

// The measure of a set of runs' constraint: that of the first run whose scheduler names one.
std::string runs_constraint_key(const std::vector<const RunRecord*>& runs);

}  // namespace priorlab::host::detail
