#include "priorlab/math.hpp"

#include <cmath>

namespace priorlab {

namespace {
constexpr double kLog2Pi = 1.8378770664093453;  // log(2 pi)
}

torch::Tensor diag_gaussian_log_density_per_dimension(const torch::Tensor& x, const torch::Tensor& mu,
                                                      const torch::Tensor& logvar) {
  auto sq = (x - mu).pow(2) * torch::exp(-logvar);
  return -0.5 * (kLog2Pi + logvar + sq);
}

torch::Tensor diag_gaussian_log_density(const torch::Tensor& x, const torch::Tensor& mu, const torch::Tensor& logvar) {
  return diag_gaussian_log_density_per_dimension(x, mu, logvar).sum(-1);
}

torch::Tensor standard_normal_log_density(const torch::Tensor& x) { return -0.5 * (kLog2Pi + x.pow(2)).sum(-1); }

torch::Tensor bernoulli_log_likelihood(const torch::Tensor& x, const torch::Tensor& logits, std::int64_t event_dims) {
  auto ll = x * logits - torch::nn::functional::softplus(logits);
  if (event_dims <= 0) return ll;
  std::vector<std::int64_t> dims;
  for (std::int64_t d = 1; d <= event_dims; ++d) dims.push_back(-d);
  return ll.sum(dims);
}

torch::Tensor log_mean_exp(const torch::Tensor& t, std::int64_t dim) {
  return torch::logsumexp(t, dim) - std::log(static_cast<double>(t.size(dim)));
}

namespace {
thread_local BatchShard t_shard;
}  // namespace

BatchShardScope::BatchShardScope(const BatchShard& shard) : previous_(t_shard) { t_shard = shard; }
BatchShardScope::~BatchShardScope() { t_shard = previous_; }
BatchShard current_batch_shard() { return t_shard; }

torch::Tensor sample_diag_gaussian(const DiagGaussian& q, std::int64_t samples) {
  const auto std = torch::exp(0.5 * q.logvar);
  std::vector<std::int64_t> shape;
  if (samples > 0) shape.push_back(samples);
  for (auto s : q.mu.sizes()) shape.push_back(s);
  // A shard of a data-parallel batch: the global batch's noise, this process's rows of it.
  const BatchShard& shard = t_shard;
  torch::Tensor eps;
  if (shard.active() && q.mu.dim() >= 2 && q.mu.size(-2) == shard.size) {
    const auto batch_dim = static_cast<std::int64_t>(shape.size()) - 2;
    shape[batch_dim] = shard.global;
    eps = torch::randn(shape, q.mu.options()).narrow(batch_dim, shard.offset, shard.size);
  } else {
    eps = torch::randn(shape, q.mu.options());
  }
  if (samples <= 0) return q.mu + std * eps;
  return q.mu.unsqueeze(0) + std.unsqueeze(0) * eps;
}

std::uint64_t mix_seed(std::uint64_t seed, std::uint64_t a, std::uint64_t b) {
  auto splitmix = [](std::uint64_t x) {
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
  };
  return splitmix(splitmix(splitmix(seed) ^ a) ^ b) & 0x7fffffffffffffffULL;  // torch seeds are int64-safe
}

torch::Tensor importance_weighted_bound(const torch::Tensor& log_weights) { return log_mean_exp(log_weights, 0); }

torch::Tensor kl_to_standard_normal_per_dimension(const DiagGaussian& q) {
  return 0.5 * (torch::exp(q.logvar) + q.mu.pow(2) - 1.0 - q.logvar);
}

torch::Tensor kl_to_standard_normal(const DiagGaussian& q) { return kl_to_standard_normal_per_dimension(q).sum(-1); }

}  // namespace priorlab
