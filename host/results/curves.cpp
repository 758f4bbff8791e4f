// Training curves read back from metrics.jsonl: its lines (read_metrics_lines, declared in
// results/report.hpp) and the series, charts and constraint measure of results/curves.hpp.
#include "results/curves.hpp"

#include <algorithm>
#include <fstream>

#include "pipeline/pipeline.hpp"

namespace fs = std::filesystem;
using nlohmann::json;

namespace priorlab::host {

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

// At most ~600 points per series: every k-th line, always keeping the last.
std::vector<size_t> thinned(size_t n, size_t most = 600) {
  std::vector<size_t> idx;
  const size_t every = std::max<size_t>(1, (n + most - 1) / most);
  for (size_t i = 0; i < n; i += every) idx.push_back(i);
  if (n && idx.back() != n - 1) idx.push_back(n - 1);
  return idx;
}

}  // namespace

namespace detail {

SvgSeries series_of(const std::vector<json>& lines, const std::string& key, std::string label, std::string color,
                    bool dashed) {
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

SvgChart make_chart(std::string title, int width, int height) {
  SvgChart c;
  c.title = std::move(title);
  c.width = width;
  c.height = height;
  return c;
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

}  // namespace detail

}  // namespace priorlab::host
