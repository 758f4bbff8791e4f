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
  std::string artefact_dir;  ///< where pictures go (exists)
  std::uint64_t seed = 0;
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
