// Interface: the prior p(z) over the latent space.
#pragma once

#include <cstdint>

#include <torch/torch.h>

#include "priorlab/export.hpp"
#include "priorlab/math.hpp"

namespace priorlab {

/// A learnable (or fixed) prior. A torch Module: its parameters are the "prior" parameter group,
/// which a scheduler may keep frozen (REWO's initial phase).
class PRIORLAB_API Prior : public torch::nn::Module {
 public:
  static constexpr const char* kind = "prior";
  ~Prior() override;

  /// log p(z) for z [..., D] -> [...], nats. Priors without a closed form return a stochastic
  /// lower bound (VHP: the K-sample importance-weighted bound of Eq. 9).
  virtual torch::Tensor log_prob(const torch::Tensor& z) = 0;

  /// n samples z ~ p(z) -> [n, D] on the prior's device.
  virtual torch::Tensor sample(std::int64_t n) = 0;

  /// Priors whose log_prob() is an importance-weighted bound: the number K of samples it uses;
  /// 0 (the default) for priors with a closed form.
  virtual std::int64_t bound_samples() const;

  /// Sets K for later log_prob() calls (the test log-likelihood states its own K). The default
  /// throws Error: a closed-form prior has no K to set.
  virtual void set_bound_samples(std::int64_t k);

  /// Hierarchical priors (VHP): the upper layer's posterior q(ζ|z) for z [..., D] -> [..., Dζ],
  /// against the upper prior p(ζ) = N(0, I). The default returns undefined tensors: no upper layer.
  virtual DiagGaussian upper_posterior(const torch::Tensor& z);
};

}  // namespace priorlab
