// Sweeps: a base pipeline and axes of option values, expanded (cartesian product, then seeds)
// into runs under one folder, executed as child processes of this executable N at a time.
// The plan is made in sweep_plan.cpp, run in sweep.cpp, and written as a Slurm job array in
// sweep_slurm.cpp; what those files share is experiments/sweep_internal.hpp.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "pipeline/pipeline.hpp"
#include "pipeline/registry.hpp"

namespace priorlab::host {

// ---- The plan (sweep_plan.cpp): a sweep file expanded into its runs. ----

/// One value of an axis: a short name (used in run names) and what it sets.
struct SweepValue {
  std::string name;
  std::vector<std::pair<std::string, nlohmann::json>> sets;  ///< (option path, value), applied in order
};

struct SweepAxis {
  std::string name;  ///< column and run-name key: "prior"
  std::string path;  ///< "/prior" (may be empty when every value says what it sets)
  std::vector<SweepValue> values;
};

struct SweepRun {
  std::string name;                                       ///< "prior=vhp,scheduler=rewo,seed=1"
  std::vector<std::pair<std::string, std::string>> axes;  ///< (axis, value name)
  std::optional<std::int64_t> seed;
  nlohmann::json pipeline;  ///< the base with this run's values set, not yet resolved
  Provenance provenance;    ///< which file (or sweep key) set each value of `pipeline`
};

struct SweepPlan {
  std::string source;  ///< the sweep file
  std::string name, description;
  std::string base_source;  ///< the base pipeline's file, or "(inline)"
  nlohmann::json base;      ///< the base pipeline (its "extends" followed) with the sweep's "set" applied
  Provenance provenance;    ///< which file set each value of `base`: its extends chain, the sweep's "set"
  std::vector<std::string> set_paths;  ///< the option paths of the sweep's "set", in order
  std::vector<SweepAxis> axes;
  std::vector<std::int64_t> seeds;   ///< empty: the base's own seed, no seed in the names
  std::vector<std::string> metrics;  ///< for the comparison table (empty: the default rule)
  std::vector<SweepRun> runs;        ///< axes in order (the first varies slowest), seeds innermost
};

/// Parses and expands a sweep file (see README "Sweeps"): syntax errors as file:line:column,
/// structure errors as "file: /axes/0/values/2: expected ..., found ...". `base_dir` resolves a
/// base given as a path. Does not validate the pipelines (resolve_pipeline does, per run).
SweepPlan expand_sweep(const nlohmann::json& sweep, const std::string& source, const std::filesystem::path& base_dir);
SweepPlan load_sweep(const std::string& path);

/// Keeps only the runs whose value of `axis` is one of the names in "AXIS=NAME[,NAME...]";
/// throws Error naming an unknown axis or value.
void filter_sweep(SweepPlan& plan, const std::string& only);
/// Replaces the plan's seeds ("0,1,2"), re-expanding the runs.
void set_sweep_seeds(SweepPlan& plan, const std::string& seeds);

/// A name fit for a folder: characters other than A-Z a-z 0-9 . _ + - become '-'.
std::string filesystem_safe(const std::string& text);

// ---- Running a sweep (sweep.cpp; --emit slurm: sweep_slurm.cpp). ----

struct SweepRequest {
  std::string path;
  std::string out_dir;  ///< default: runs/<sweep name>
  int jobs = 1;
  std::vector<std::string> overrides;     ///< --set, applied to every run after its axis values
  std::vector<std::string> only;          ///< --only AXIS=NAME[,NAME]
  std::string seeds;                      ///< --seeds 0,1
  std::vector<std::string> metrics;       ///< --metrics for the comparison table
  bool force = false;                     ///< re-run runs whose directory holds a different pipeline
  bool dry_run = false;                   ///< validate and list what would happen; write nothing
  std::string emit;                       ///< --emit slurm: write a job-array script instead of running
  std::string run;                        ///< --run NAME: run this one run of the plan, in this process
  std::vector<std::string> plugin_paths;  ///< passed on to every child
};

/// Runs a sweep: validates every run's pipeline first (nothing is written when one is bad),
/// skips runs whose run.json says completed (with the same pipeline), resumes interrupted ones
/// from their newest checkpoint, re-runs failed ones, and records every outcome in
/// DIR/status.json. Ends with the comparison table and DIR/report.html. Returns 0 when every
/// run completed, 1 when any failed, 130 when stopped.
/// With --emit slurm: validates as above, writes DIR/sweep.json and, in DIR/slurm/,
/// array.sbatch (one array task per planned run: `sweep FILE --run NAME` with the same flags),
/// compare.sbatch (`priorlab compare DIR`) and submit.sh (submits both, the comparison after the
/// array), and returns 0 without running anything. With --run NAME: the one run, by the same
/// skip / resume / run-again rules, in this process (so a launcher's ranks make it
/// data-parallel), neither taking the folder's lock nor writing status.json: array tasks run
/// side by side, each run folder guarded by its own lock.
int run_sweep(const Registry& registry, const SweepRequest& request, const std::atomic<bool>* stop);

}  // namespace priorlab::host
