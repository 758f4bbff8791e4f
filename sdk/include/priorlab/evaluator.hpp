// Interface: an evaluation of a trained model (metrics and pictures).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "priorlab/dataset.hpp"
#include "priorlab/export.hpp"
#include "priorlab/network.hpp"
#include "priorlab/objective.hpp"
#include "priorlab/prior.hpp"

namespace priorlab {

/// What an evaluator may use. The model is in eval mode; wrap work in torch::NoGradGuard.
struct EvalContext {
  Network* network = nullptr;
  Prior* prior = nullptr;
  const Dataset* dataset = nullptr;
  Objective* objective = nullptr;
  torch::Device device{torch::kCPU};
  torch::Dtype dtype = torch::kFloat;  ///< the model's floating-point type (the pipeline's "dtype")
  std::string run_dir;       ///< the run directory (metrics.jsonl, config.json live here)
  /// Where pictures go (exists). Empty: write none (the ranks other than 0 of a data-parallel
  /// evaluation): artefact_path() then returns "" and the save_* of plot.hpp draw nothing.
  std::string artefact_dir;
  std::uint64_t seed = 0;

  /// Data-parallel evaluation (docs/distributed.md): this process is rank `rank` of `world`, and
  /// every rank runs every evaluator with the same context but for these fields. An evaluator
  /// that splits its work takes its share of a split with for_each_shard_batch() (evaluation.hpp)
  /// and combines the shares with gather_rows() and sum_over_ranks(): both are collective, so
  /// every rank calls them in the same order. One that does not split computes its whole result
  /// on every rank. average_terms() and encode_split() split and combine by themselves.
  int rank = 0, world = 1;
  /// Set by the host when world > 1: each rank's rows concatenated in rank order, and the
  /// element-wise sum over ranks, of a CPU double tensor.
  std::function<torch::Tensor(const torch::Tensor&)> gather_rows_fn, sum_fn;

  /// Every rank's rows of t [n_r, ...] (CPU, double) in rank order: t itself for one process.
  torch::Tensor gather_rows(const torch::Tensor& t) const { return world > 1 && gather_rows_fn ? gather_rows_fn(t) : t; }
  /// The element-wise sum of t (CPU, double) over ranks: t itself for one process.
  torch::Tensor sum_over_ranks(const torch::Tensor& t) const { return world > 1 && sum_fn ? sum_fn(t) : t; }
  /// Report progress of long work: fraction in [0, 1] and a short label. Never null.
  std::function<void(double, const std::string&)> progress;

  /// A dataset batch (float, CPU) as the model takes it: on ctx.device, in ctx.dtype.
  torch::Tensor model_input(const torch::Tensor& x) const { return x.to(device, dtype); }
};

struct EvalResult {
  std::map<std::string, double> metrics;  ///< merged into summary.json under the evaluator's name
  std::vector<std::string> artefacts;     ///< files written, relative to artefact_dir
};

class PRIORLAB_API Evaluator {
 public:
  static constexpr const char* kind = "evaluator";
  virtual ~Evaluator();

  /// Runs the evaluation; writes pictures under ctx.artefact_dir (atomically, see io.hpp).
  virtual EvalResult evaluate(const EvalContext& ctx) = 0;
};

}  // namespace priorlab
