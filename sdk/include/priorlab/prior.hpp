// Interface: the prior p(z) over the latent space.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "priorlab/export.hpp"
#include "priorlab/math.hpp"

namespace priorlab {

/// One stochastic layer above z, as a hierarchical prior infers it from z (collapse
/// diagnostics: is the layer alive?). For N values of z:
struct UpperLayer {
  std::string name;           ///< its symbol, e.g. "zeta": names the metrics ("zeta_kl", "zeta_active_units")
  torch::Tensor mean;         ///< [N, Dl] the posterior mean E_q[layer | z]
  torch::Tensor kl;           ///< [N, Dl] KL(q(layer_j | z) || p(layer_j)) per example and dimension, nats
                              ///< ([N, 1] when only the layer's total is known)
  std::string when_collapsed; ///< what the prior becomes when this layer is dead, for the run's warning
                              ///< (VHP: "the prior is a single Gaussian"); may be empty
};

/// What a prior is told before each training step (Prior::begin_step).
struct PriorStep {
  std::int64_t step = 0;   ///< the step about to be taken, counted from 0
  double epoch = 0.0;      ///< epochs completed before it
  /// [B] long, CPU: the examples of this process's batch, as indices into Split::Train, in the
  /// order of the rows that the objective passes to log_prob() (an exemplar prior leaves each
  /// row's own example out of its mixture).
  torch::Tensor indices;
};

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

  /// Every stochastic layer above z, seen from z [N, D] (lowest first), for the collapse
  /// diagnostics every run records (docs/architecture.md: "Is every stochastic layer alive?"). The default
  /// derives one layer "zeta" from upper_posterior() against p(zeta) = N(0, I), with the KL in
  /// closed form (kl_to_standard_normal_per_dimension), or none when upper_posterior() returns
  /// undefined tensors. A prior with more layers, or another upper prior, overrides this.
  virtual std::vector<UpperLayer> upper_layers(const torch::Tensor& z);

  /// Priors that factorise over the latent dimensions, p(z) = prod_j p_j(z_j): log p_j(z_j) for
  /// z [..., D] -> [..., D], whose sum over the last dimension is log_prob(z). The per-dimension
  /// rate log q(z_j|x) - log p_j(z_j) that free bits clamp needs it. The default returns an
  /// undefined tensor: p(z) does not factorise (a mixture, a flow, VHP).
  virtual torch::Tensor log_prob_per_dimension(const torch::Tensor& z);

  /// Called by the trainer before each training step's objective, in training mode only
  /// (evaluations do not call it). The default does nothing; a prior built on the training
  /// data refreshes what it caches from it here.
  virtual void begin_step(const PriorStep& step);
};

}  // namespace priorlab
