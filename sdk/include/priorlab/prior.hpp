// Interface: the prior p(z) over the latent space.
#pragma once

#include <cstdint>

#include <torch/torch.h>

#include "priorlab/export.hpp"

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
};

}  // namespace priorlab
