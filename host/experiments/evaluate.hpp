// `priorlab evaluate`: the evaluators of a finished run (or of every run under a folder) run
// again, or new ones added, on a checkpoint, without training; their metrics are merged into
// summary.json.
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "pipeline/registry.hpp"

namespace priorlab::host {

struct EvaluateRequest {
  std::string dir;                         ///< a run directory, or a folder of runs (a sweep)
  std::optional<std::int64_t> checkpoint;  ///< --checkpoint STEP; default: each run's newest
  std::vector<std::string> evaluators;     ///< --evaluator JSON_SECTION; default: each run's own
  int jobs = 1;                            ///< runs evaluated at a time (child processes)
  int threads = 0;                         ///< intra-op threads (0: the run's training.threads)
  std::vector<std::string> plugin_paths;   ///< passed on to every child
};

/// Validates every section against every run (and that each run has the checkpoint asked for)
/// before anything is written; then, per run, rebuilds the pipeline from config.json, loads the
/// checkpoint, runs the evaluators and merges their metrics into summary.json under their names
/// (the other metrics stay), with "evaluated": {name: {step, at}}, pictures into artefacts/,
/// and rewrites report.html. summary.json is replaced atomically, and only when the evaluation
/// was not interrupted. Returns 0, 1 when an evaluator failed (the others are still merged),
/// 130 when stopped.
int evaluate_runs(const Registry& registry, const EvaluateRequest& request, const std::atomic<bool>* stop);

}  // namespace priorlab::host
