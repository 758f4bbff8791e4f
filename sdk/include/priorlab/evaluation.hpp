// Helpers every evaluator needs: which split to use and iterating it in batches.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "priorlab/dataset.hpp"
#include "priorlab/export.hpp"

namespace priorlab {

/// "test" when the dataset has one, else "validation", else "train".
PRIORLAB_API Split evaluation_split(const Dataset& dataset);

/// Parses "test" | "validation" | "train" | "auto" (auto = evaluation_split).
PRIORLAB_API Split parse_split(const Dataset& dataset, const std::string& name);

/// The draw seed of every evaluation batch (for_each_batch and pictures use the same).
constexpr std::uint64_t kEvaluationDrawSeed = 0x6576616cULL;  // "eval"

/// The path of picture `file` under ctx.artefact_dir; `file` must be a plain name ending in
/// ".png" (no folders), else Error naming the option.
PRIORLAB_API std::string artefact_path(const std::string& artefact_dir, const std::string& file);

/// Calls fn(batch, done, total) for the first `limit` examples of `split` (all when limit <= 0)
/// in order, `batch_size` at a time. Batches stay on the CPU; draw_seed is fixed so evaluations
/// of randomised datasets are repeatable.
PRIORLAB_API void for_each_batch(const Dataset& dataset, Split split, std::int64_t limit, std::int64_t batch_size,
                                 const std::function<void(const Batch&, std::int64_t, std::int64_t)>& fn);

}  // namespace priorlab
