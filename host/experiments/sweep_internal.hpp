// What the files of a sweep share, not part of the host's API: sweep.json, the record of the plan
// (sweep_plan.cpp), which both the local sweep (sweep.cpp) and --emit slurm (sweep_slurm.cpp)
// write; and emit_slurm (sweep_slurm.cpp), which run_sweep calls for --emit slurm.
#pragma once

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "experiments/sweep.hpp"

namespace priorlab::host::detail {

/// sweep.json: the plan as run, with the request's sweep file, --set, --only and --metrics (the
/// comparison takes its metrics from it). In sweep_plan.cpp.
nlohmann::json plan_record(const SweepPlan& plan, const SweepRequest& req);

/// `sweep FILE --emit slurm`: writes DIR/sweep.json and, in DIR/slurm/, array.sbatch (each task
/// given `threads` CPUs), compare.sbatch and submit.sh for the runs of `plan`; returns kOk.
/// In sweep_slurm.cpp.
int emit_slurm(const SweepPlan& plan, const SweepRequest& req, const std::filesystem::path& dir, std::int64_t threads);

}  // namespace priorlab::host::detail
