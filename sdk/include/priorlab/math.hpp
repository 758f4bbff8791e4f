// Numerics shared by every plugin: one place for each density and bound.
//
// Conventions: the event (latent or data) dimensions are the trailing ones and are summed;
// results are log-densities in nats per example with the leading (batch / sample) shape kept.
#pragma once

#include <cstdint>

#include <torch/torch.h>

#include "priorlab/export.hpp"

namespace priorlab {

/// Parameters of a diagonal Gaussian N(mu, diag exp(logvar)); both [..., D].
struct DiagGaussian {
  torch::Tensor mu;
  torch::Tensor logvar;
};

/// log N(x; mu, diag exp(logvar)) summed over the last dimension -> [...].
///   = -1/2 sum_d [ log(2 pi) + logvar_d + (x_d - mu_d)^2 / exp(logvar_d) ]
/// x, mu and logvar broadcast against each other.
PRIORLAB_API torch::Tensor diag_gaussian_log_density(const torch::Tensor& x, const torch::Tensor& mu,
                                                     const torch::Tensor& logvar);

/// The same per dimension, not summed -> [..., D] (broadcast shape of x, mu, logvar):
///   -1/2 [ log(2 pi) + logvar_d + (x_d - mu_d)^2 / exp(logvar_d) ]
PRIORLAB_API torch::Tensor diag_gaussian_log_density_per_dimension(const torch::Tensor& x, const torch::Tensor& mu,
                                                                   const torch::Tensor& logvar);

/// log N(x; 0, I) summed over the last dimension -> [...].
PRIORLAB_API torch::Tensor standard_normal_log_density(const torch::Tensor& x);

/// log Bernoulli(x; sigmoid(logits)) summed over the trailing `event_dims` dimensions.
///   x log sigmoid(l) + (1-x) log(1 - sigmoid(l)) = x l - softplus(l), stable for large |l|;
/// x may be grey values in [0, 1] (the continuous relaxation used for grey MNIST).
PRIORLAB_API torch::Tensor bernoulli_log_likelihood(const torch::Tensor& x, const torch::Tensor& logits,
                                                    std::int64_t event_dims);

/// log (1/K) sum_k exp(t_k) along `dim`, computed with logsumexp (no overflow).
PRIORLAB_API torch::Tensor log_mean_exp(const torch::Tensor& t, std::int64_t dim);

/// Reparameterised samples z = mu + exp(logvar/2) * eps, eps ~ N(0, I).
/// samples == 0 returns [..., D]; samples == K > 0 returns [K, ..., D].
/// In a data-parallel training step (BatchShard below) eps is drawn for the whole global batch
/// and this process's rows are kept, so the draws do not depend on how the batch is split.
PRIORLAB_API torch::Tensor sample_diag_gaussian(const DiagGaussian& q, std::int64_t samples = 0);

/// Data-parallel training (docs/distributed.md): the rows [offset, offset + size) of a global
/// batch of `global` examples that this process computes. While a BatchShardScope is alive on
/// a thread, sample_diag_gaussian treats a q whose second-last dimension (the batch dimension
/// of [..., B, D]) has `size` rows as this shard of the global batch: it draws noise for all
/// `global` rows, from the same generator state one process would have, and keeps its own.
/// N ranks then draw exactly the noise one process draws for the same step. Plugins that draw
/// their own training noise should draw it through sample_diag_gaussian for the same reason.
struct BatchShard {
  std::int64_t offset = 0, size = 0, global = 0;
  bool active() const { return global > size; }
};

/// Sets the calling thread's batch shard for its lifetime (the trainer holds one per step).
class PRIORLAB_API BatchShardScope {
 public:
  explicit BatchShardScope(const BatchShard& shard);
  ~BatchShardScope();
  BatchShardScope(const BatchShardScope&) = delete;
  BatchShardScope& operator=(const BatchShardScope&) = delete;

 private:
  BatchShard previous_;
};

/// The calling thread's batch shard (inactive outside a BatchShardScope).
PRIORLAB_API BatchShard current_batch_shard();

/// A torch seed (below 2^63) for stream (a, b) of `seed`: splitmix64 applied in turn to seed,
/// ^a and ^b, so that nearby seeds and streams give unrelated generators. The trainer seeds
/// each step with it, evaluations each batch (for_each_shard_batch).
PRIORLAB_API std::uint64_t mix_seed(std::uint64_t seed, std::uint64_t a, std::uint64_t b = 0);

/// The K-sample importance-weighted bound log (1/K) sum_k w_k from log-weights [K, ...] -> [...].
/// With log w_k = log p(x, z_k) - log q(z_k | x) this is the IWAE bound (Burda et al. 2016);
/// VHP uses it for log p(z) with w_k = p(z|zeta_k) p(zeta_k) / q(zeta_k|z) (Eq. 9).
PRIORLAB_API torch::Tensor importance_weighted_bound(const torch::Tensor& log_weights);

/// KL( N(mu, diag exp(logvar)) || N(0, I) ) per dimension, in closed form: [..., D]
///   = 1/2 [ exp(logvar_d) + mu_d^2 - 1 - logvar_d ]
PRIORLAB_API torch::Tensor kl_to_standard_normal_per_dimension(const DiagGaussian& q);

/// The same summed over the last dimension: [...].
PRIORLAB_API torch::Tensor kl_to_standard_normal(const DiagGaussian& q);

}  // namespace priorlab
