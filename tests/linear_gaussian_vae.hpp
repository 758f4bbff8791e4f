// A linear-Gaussian VAE whose marginal likelihood and exact posterior are known in closed form,
// for testing likelihood bounds and estimators (IWAE objective, loglik evaluator).
//
//   p(z) = N(0, I_d),   p(x|z) = N(W z + b, s² I_n)
//   =>  p(x) = N(b, W Wᵀ + s² I),
//       p(z|x) = N(P Wᵀ (x − b) / s², P),   P = (I + Wᵀ W / s²)⁻¹.
// W's columns are orthogonal, so P is diagonal and a diagonal-Gaussian encoder can be exact.
// The encoder is the exact posterior with its mean scaled by `mean_scale` and its variance by
// `var_scale` (1, 1 = exact). Everything is double precision.
#pragma once

#include <cmath>

#include <priorlab/sdk.hpp>

namespace priorlab::test {

class LinearGaussianVae : public Network {
 public:
  static constexpr std::int64_t kD = 2;  // latent
  static constexpr std::int64_t kN = 4;  // data
  static constexpr double kS = 0.5;      // decoder standard deviation

  explicit LinearGaussianVae(double mean_scale = 1.0, double var_scale = 1.0) {
    // Columns (1, 1, 0.5, 0) and (1, -1, 0, 2): their inner product is 1 - 1 + 0 + 0 = 0.
    W_ = register_buffer("W", torch::tensor({1.0, 1.0, 1.0, -1.0, 0.5, 0.0, 0.0, 2.0}, torch::kDouble).view({kN, kD}));
    b_ = register_buffer("b", torch::tensor({0.2, -0.4, 1.0, 0.0}, torch::kDouble));
    const auto P = posterior_cov();
    enc_ = register_buffer("enc", mean_scale * P.matmul(W_.t()) / (kS * kS));  // [d, n]
    logvar_ = register_buffer("logvar", torch::log(torch::diag(P) * var_scale));
    likelihood_ = register_module("likelihood", std::make_shared<Likelihood>("gaussian", "linear", kS, false,
                                                                              std::vector<std::int64_t>{kN}));
    likelihood_->to(torch::kDouble);
  }

  torch::Tensor posterior_cov() const {
    return torch::inverse(torch::eye(kD, torch::kDouble) + W_.t().matmul(W_) / (kS * kS));
  }

  /// log p(x) for x [B, n] by the textbook full-covariance formula -> [B].
  torch::Tensor log_marginal(const torch::Tensor& x) const {
    const auto cov = W_.matmul(W_.t()) + kS * kS * torch::eye(kN, torch::kDouble);
    const auto r = x - b_;
    const auto quad = (r.matmul(torch::inverse(cov)) * r).sum(-1);
    return -0.5 * (kN * std::log(2 * M_PI) + torch::logdet(cov) + quad);
  }

  /// n draws x ~ p(x), independently of the network's own methods.
  torch::Tensor draw(std::int64_t n) const {
    return torch::randn({n, kD}, torch::kDouble).matmul(W_.t()) + b_ + kS * torch::randn({n, kN}, torch::kDouble);
  }

  std::int64_t latent_dim() const override { return kD; }
  DiagGaussian encode(const torch::Tensor& x) override {
    return {(x - b_).matmul(enc_.t()), logvar_.expand({x.size(0), kD})};
  }
  torch::Tensor decode(const torch::Tensor& z) override { return z.matmul(W_.t()) + b_; }
  torch::Tensor log_likelihood(const torch::Tensor& x, const torch::Tensor& params) override {
    return likelihood_->log_prob(x, params);
  }
  torch::Tensor mean(const torch::Tensor& params) override { return likelihood_->mean(params); }

 private:
  torch::Tensor W_, b_, enc_, logvar_;
  std::shared_ptr<Likelihood> likelihood_;
};

/// Examples held in memory as the test split (and the train split).
class VectorDataset : public TensorDataset {
 public:
  explicit VectorDataset(const torch::Tensor& x) {
    info_.shape = {x.size(1)};
    set_split(Split::Train, x, {});
    set_split(Split::Test, x, {});
  }
};

}  // namespace priorlab::test
