// Interface: the training objective (what the optimiser minimises for a batch).
#pragma once

#include <torch/torch.h>

#include "priorlab/dataset.hpp"
#include "priorlab/export.hpp"
#include "priorlab/network.hpp"
#include "priorlab/prior.hpp"

namespace priorlab {

/// One batch's terms. Only `loss` carries gradients; the rest are detached, per example.
struct ObjectiveTerms {
  torch::Tensor loss;           ///< scalar: mean over the batch of distortion + beta * rate
  torch::Tensor distortion;     ///< [B] E_q[-log p(x|z)], nats per example
  torch::Tensor rate;           ///< [B] E_q[log q(z|x) - log p(z)], nats per example
  torch::Tensor squared_error;  ///< [B] ||x - decoder mean||^2 summed over data dimensions
};

class PRIORLAB_API Objective {
 public:
  static constexpr const char* kind = "objective";
  virtual ~Objective();

  /// Terms for a batch x [B, *S] (on the model's device) at the scheduler's beta.
  /// The beta form of Eq. 4/10: loss = E_q[-log p(x|z)] + beta * E_q[log q(z|x) - log p(z)];
  /// beta = 1 is the (negative) ELBO. The loss is not divided by the data dimension.
  virtual ObjectiveTerms compute(const torch::Tensor& x, Network& network, Prior& prior, double beta) = 0;
};

}  // namespace priorlab
