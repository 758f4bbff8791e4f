// The room's two commands, put together from the writers of the other files: `priorlab report DIR`
// (write_reports: run pages and a folder's page) and `priorlab compare DIR` (compare_command:
// the table, its pictures and the paired table).
#include <fmt/format.h>

#include <iostream>

#include "pipeline/pipeline.hpp"
#include "priorlab/error.hpp"
#include "results/compare.hpp"
#include "results/report.hpp"

namespace fs = std::filesystem;
using nlohmann::json;

namespace priorlab::host {

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
