// Is every stochastic layer alive? One definition of a layer's activity, shared by the
// active_units evaluator and the collapse diagnostics every run records (host/engine/collapse.hpp).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "priorlab/export.hpp"
#include "priorlab/prior.hpp"

namespace priorlab {

/// The active-unit threshold of Burda et al. (2016): a dimension with Cov_x(E_q[u_d]) above it is active.
constexpr double kActiveUnitThreshold = 0.01;

/// One stochastic layer u over N examples (Burda et al. 2016, Sec. 5.2; the paper's Fig. 21):
///   activity_d = Var_n( E_q[u_d | x_n] )   (population variance of the posterior mean)
/// dimension d is active when activity_d > threshold; kl_d is the mean over the examples of the
/// layer's KL to its prior in dimension d, where known.
struct LayerActivity {
  std::string name;            ///< "z", "zeta", ...
  torch::Tensor activity;      ///< [D] double, CPU
  torch::Tensor kl;            ///< [D] (or [1]) double, CPU; undefined when unknown
  double threshold = kActiveUnitThreshold;
  std::string when_collapsed;  ///< from UpperLayer::when_collapsed ("" for z)

  std::int64_t dimensions() const { return activity.size(0); }
  PRIORLAB_API std::int64_t active_units() const;
  /// Sum of kl over the dimensions, nats per example (NaN when kl is undefined).
  PRIORLAB_API double kl_total() const;
};

/// The activity of a layer from its posterior means [N, D] and per-example KL [N, D] (or an
/// undefined tensor). Computed in double on the CPU.
PRIORLAB_API LayerActivity layer_activity(std::string name, const torch::Tensor& means, const torch::Tensor& kl,
                                          double threshold = kActiveUnitThreshold);

/// The layers above z of `prior` (Prior::upper_layers) at z [N, D], each as a LayerActivity;
/// empty for a prior with no upper layer. No gradients are recorded.
PRIORLAB_API std::vector<LayerActivity> upper_layer_activity(Prior& prior, const torch::Tensor& z,
                                                             double threshold = kActiveUnitThreshold);

}  // namespace priorlab
