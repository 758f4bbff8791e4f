// Comparison tables: every run's summary.json under a folder, grouped by combination (runs
// that differ only in their seed), mean ± sample standard deviation per metric, best marked.
#pragma once

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace priorlab::host {

class Registry;

/// Which way a metric improves, from its name (the part after the last '.'), first rule that
/// matches: "negative" → lower (negative_elbo); nll, error, loss, mae, mse, distortion, rms →
/// lower; elbo, log_likelihood, loglik, active, alive → higher; anything else unknown (not marked).
/// "standard_error" is an uncertainty, not a score: unknown.
enum class Direction { kUnknown = 0, kLower = -1, kHigher = 1 };
Direction metric_direction(const std::string& metric);

/// A run directory found under the compared folder.
struct RunRecord {
  std::filesystem::path dir;  ///< the run directory
  std::string name;           ///< its folder name
  std::string status;         ///< run.json status ("" when there is none)
  std::string error;          ///< run.json error, or the summary's first error
  bool has_summary = false;
  /// flat: "pendulum_angle.mae_rad" → number; also "train.*" (the last interval), "steps",
  /// "wall_seconds", and the collapse section's "collapse.all_alive" and "collapse.<layer>_alive"
  /// (1 or 0) and "collapse.<layer>_active_units"
  nlohmann::json metrics = nlohmann::json::object();
};

/// One metric of one combination over its seeds.
struct Cell {
  double mean = 0, std = 0;  ///< std: sample standard deviation (n − 1); 0 when n = 1
  /// bootstrap 95 % interval of the mean (bootstrap_mean_interval); both the value when n = 1
  double ci_low = 0, ci_high = 0;
  int n = 0;  ///< runs that reported the metric
  bool best = false;
};

/// Percentile bootstrap 95 % interval of the mean of `values`: `resamples` resamples of the
/// values with replacement, each index drawn as std::mt19937_64(seed)() mod n (the same interval
/// from every compiler), and the 2.5th and 97.5th percentiles of their means, interpolated
/// linearly between order statistics (numpy's default). With n seeds the resampled means take
/// at most C(2n−1, n) values, so for 2 or 3 seeds the interval is close to [min, max]. One value:
/// [value, value]. Throws Error for no values or resamples < 1.
std::pair<double, double> bootstrap_mean_interval(const std::vector<double>& values, int resamples = 10000,
                                                  std::uint64_t seed = 0);

struct ComparisonRow {
  std::string label;              ///< "prior=vhp,scheduler=rewo" (the run name without its seed)
  std::vector<std::string> axes;  ///< the label split into the table's axis columns
  std::vector<const RunRecord*> runs;
  std::vector<std::optional<Cell>> cells;  ///< one per metric
};

struct Comparison {
  std::filesystem::path dir;
  std::vector<RunRecord> runs;            ///< every run found, completed or not, sorted by path
  std::vector<std::string> axis_columns;  ///< ["prior", "scheduler"], or ["run"]
  std::vector<std::string> metrics;
  std::vector<Direction> directions;
  std::vector<ComparisonRow> rows;           ///< combinations with at least one summary
  std::vector<const RunRecord*> incomplete;  ///< runs without a summary.json (failed, interrupted, running)

  Comparison() = default;
  Comparison(const Comparison&) = delete;  // rows point into runs
  Comparison& operator=(const Comparison&) = delete;
  Comparison(Comparison&&) = default;
};

/// The run directories under `dir`, sorted: `dir` itself when it is one, else every folder below
/// it holding a run.json or summary.json (not searched further; folders starting with '.' skipped).
std::vector<std::filesystem::path> find_run_dirs(const std::filesystem::path& dir);

/// Finds the run directories under `dir`: every folder holding a run.json or summary.json,
/// searched recursively (a run directory is not searched further; folders whose names start
/// with '.' are skipped). The run name minus its "seed=N" component (or a trailing "seedN",
/// "_seed_N", "-seed-N") names its combination; runs are grouped when that label and their
/// config.json without name, description, seed and training.threads agree; with a `registry`,
/// each config.json is first resolved under this build's defaults (as the sweep does before it
/// skips a run), so a run written before an option existed groups with one that has its
/// default. When every label is a
/// list "axis=value,..." the axes become columns. `metrics`: names or suffixes ("mae_rad"
/// matches "pendulum_angle.mae_rad"; one name may match several metrics); empty: the sweep's
/// "metrics" when `dir` holds a sweep.json that lists them, else every evaluator metric with a
/// known direction. Throws Error naming a metric that no run has.
Comparison compare_runs(const std::filesystem::path& dir, const std::vector<std::string>& metrics = {},
                        const Registry* registry = nullptr);

/// Reads one run directory (run.json, summary.json) into a record.
RunRecord read_run(const std::filesystem::path& dir);

/// The run name without its seed component ("prior=vhp,seed=1" → "prior=vhp").
std::string strip_seed(const std::string& name);

/// "0.06811" style numbers: 4 significant digits.
std::string format_number(double v);

std::string comparison_markdown(const Comparison& c);
std::string comparison_csv(const Comparison& c);

/// Writes dir/comparison.md and dir/comparison.csv atomically.
void write_comparison(const Comparison& c);

/// One row of a paired comparison against a reference row, from the loglik evaluator's
/// artefacts/loglik_per_example.csv: for each seed both rows ran, d_i = log p(x_i) of this row
/// minus that of the reference, over the images both scored (joined by index).
struct PairedRow {
  struct Pair {
    std::int64_t seed = 0;
    std::int64_t n = 0;           ///< images both runs scored
    double mean = 0;              ///< mean of d_i (> 0: this row gives the test images more likelihood)
    double standard_error = 0;    ///< sd(d_i) / sqrt(n), sd with n − 1
  };
  std::string label;
  std::vector<Pair> pairs;  ///< sorted by seed
  double mean = 0, std = 0;  ///< over the pairs' means; std with n − 1 (0 for one pair)
};

struct PairedComparison {
  std::string reference;
  std::vector<PairedRow> rows;        ///< every other row with at least one pair, in table order
  std::vector<std::string> unpaired;  ///< "label: why" for rows without a pair
};

/// `priorlab compare DIR --paired REF`: `reference` is a row's label (as the table names it).
/// Throws Error naming the rows when no row has that label, or when the reference has no
/// per-example file; a malformed file is an Error at "file:line".
PairedComparison compare_paired(const Comparison& c, const std::string& reference);
std::string paired_markdown(const PairedComparison& p);
/// Writes dir/comparison_paired.md atomically.
void write_paired(const Comparison& c, const PairedComparison& p);

}  // namespace priorlab::host
