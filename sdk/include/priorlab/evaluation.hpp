// Helpers every evaluator needs: which split to use and iterating it in batches.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "priorlab/dataset.hpp"
#include "priorlab/evaluator.hpp"
#include "priorlab/export.hpp"

namespace priorlab {

/// "test" when the dataset has one, else "validation", else "train".
PRIORLAB_API Split evaluation_split(const Dataset& dataset);

/// Parses "test" | "validation" | "train" | "auto" (auto = evaluation_split).
PRIORLAB_API Split parse_split(const Dataset& dataset, const std::string& name);

/// The draw seed of every evaluation batch (for_each_batch and pictures use the same).
constexpr std::uint64_t kEvaluationDrawSeed = 0x6576616cULL;  // "eval"

/// The path of picture `file` under ctx.artefact_dir; `file` must be a plain name ending in
/// ".png" (no folders), else Error naming the option; "" when artefact_dir is empty (no pictures).
PRIORLAB_API std::string artefact_path(const std::string& artefact_dir, const std::string& file);

/// Calls fn(batch, done, total) for the first `limit` examples of `split` (all when limit <= 0)
/// in order, `batch_size` at a time. Batches stay on the CPU; draw_seed is fixed so evaluations
/// of randomised datasets are repeatable.
PRIORLAB_API void for_each_batch(const Dataset& dataset, Split split, std::int64_t limit, std::int64_t batch_size,
                                 const std::function<void(const Batch&, std::int64_t, std::int64_t)>& fn);

/// for_each_batch over this rank's share of the split (EvalContext::rank of world): the batches
/// of `batch_size` are the ones one process makes, and rank r takes the contiguous run
/// [r*nb/W, (r+1)*nb/W) of the nb batches, so that gathering the ranks' rows in rank order
/// gives the split's order. fn's `done` and `total` count this rank's examples. Before each
/// batch torch's generators are seeded from (ctx.seed, the batch's index): a batch's draws are
/// the same whatever the number of ranks, and whatever ran before it. Afterwards they are
/// seeded from (ctx.seed, the number of batches), so what the evaluator draws next does not
/// depend on the ranks either.
PRIORLAB_API void for_each_shard_batch(const EvalContext& ctx, Split split, std::int64_t limit, std::int64_t batch_size,
                                       const std::function<void(const Batch&, std::int64_t, std::int64_t)>& fn);

/// The objective's terms at beta = 1 averaged over a split (nats per example): the negative
/// ELBO is distortion + rate. `squared_error` is ||x - decoder mean||^2 summed over the data.
/// Split over the ranks of a data-parallel evaluation (for_each_shard_batch) and summed: every
/// rank gets the split's averages.
struct AverageTerms {
  double distortion = 0, rate = 0, squared_error = 0;
  std::int64_t examples = 0;
};
PRIORLAB_API AverageTerms average_terms(const EvalContext& ctx, Split split, std::int64_t limit,
                                        std::int64_t batch_size, double progress_share = 1.0);

/// Posteriors (and labels) of the first `limit` examples of a split (split over the ranks of a
/// data-parallel evaluation and gathered: every rank gets all of them, in order).
struct EncodedSplit {
  torch::Tensor means;   ///< [N, D] double, CPU
  torch::Tensor logvars; ///< [N, D] double, CPU
  torch::Tensor labels;  ///< [N] double, CPU, or undefined when the dataset has none
};

/// Encodes `split` through ctx.network in batches of 500 (no gradients), reporting progress
/// as `progress_share` of the evaluator's whole work.
PRIORLAB_API EncodedSplit encode_split(const EvalContext& ctx, Split split, std::int64_t limit,
                                       double progress_share = 1.0);

/// The top-k principal components of points [N, D]: project(z) = (z - centre) basis.
struct PrincipalComponents {
  torch::Tensor centre;      ///< [1, D]
  torch::Tensor basis;       ///< [D, k]
  double explained = 1.0;    ///< share of the variance the k components carry
  torch::Tensor project(const torch::Tensor& z) const { return (z - centre).matmul(basis); }
};
PRIORLAB_API PrincipalComponents principal_components(const torch::Tensor& points, std::int64_t k);

}  // namespace priorlab
