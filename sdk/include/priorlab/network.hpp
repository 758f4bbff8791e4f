// Interface: the encoder q_phi(z|x) and decoder p_theta(x|z) of a VAE.
#pragma once

#include <cstdint>

#include <torch/torch.h>

#include "priorlab/export.hpp"
#include "priorlab/math.hpp"

namespace priorlab {

/// Parameters theta (decoder) and phi (encoder). A torch Module, so parameters, devices and
/// serialisation come from LibTorch; register every submodule.
class PRIORLAB_API Network : public torch::nn::Module {
 public:
  static constexpr const char* kind = "network";
  ~Network() override;

  /// Dimension D of z.
  virtual std::int64_t latent_dim() const = 0;

  /// q_phi(z|x): x [B, *S] -> mu, logvar [B, D].
  virtual DiagGaussian encode(const torch::Tensor& x) = 0;

  /// Decoder outputs ("params") for z [..., D] -> [..., *S]; their meaning is the likelihood's.
  virtual torch::Tensor decode(const torch::Tensor& z) = 0;

  /// log p_theta(x|z) from decode()'s output: x [B, *S], params [..., B, *S] -> [..., B], nats
  /// per example (summed over data dimensions).
  virtual torch::Tensor log_likelihood(const torch::Tensor& x, const torch::Tensor& params) = 0;

  /// The decoder mean in data space for decode()'s output: [..., *S].
  virtual torch::Tensor mean(const torch::Tensor& params) = 0;

  /// The decoder output whose mean is `mean` ([*S] -> [*S]): mean(params_for_mean(m)) = m, up
  /// to clamping at the ends of (0, 1). The trainer scores the mean image through it (the
  /// constraint baseline). The default, undefined, says the network cannot tell.
  virtual torch::Tensor params_for_mean(const torch::Tensor& mean);
};

}  // namespace priorlab
