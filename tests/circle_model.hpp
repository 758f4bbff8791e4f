// A model built by hand for latent-space evaluators: 64 data points on the unit circle
// labelled by angle, an encoder and decoder that are the identity, and a prior whose samples lie
// on the circle. Whatever an evaluator finds here can be derived on paper.
#pragma once

#include <cmath>

#include "priorlab/tensor_dataset.hpp"
#include "test_util.hpp"

namespace priorlab::test {

class CirclePoints : public TensorDataset {
 public:
  CirclePoints() {
    info_.shape = {2};
    info_.label_name = "angle";
    const auto a = torch::arange(64, torch::kDouble) * (2 * M_PI / 64);
    set_split(Split::Test, torch::stack({torch::cos(a), torch::sin(a)}, 1).to(torch::kFloat), a);
  }
};

class Identity : public Network {
 public:
  std::int64_t latent_dim() const override { return 2; }
  DiagGaussian encode(const torch::Tensor& x) override { return {x, torch::zeros_like(x)}; }
  torch::Tensor decode(const torch::Tensor& z) override { return z; }
  torch::Tensor log_likelihood(const torch::Tensor&, const torch::Tensor& p) override { return p.sum(-1); }
  torch::Tensor mean(const torch::Tensor& p) override { return p; }
};

class CirclePrior : public Prior {
 public:
  torch::Tensor log_prob(const torch::Tensor& z) override { return torch::zeros({z.size(0)}); }
  torch::Tensor sample(std::int64_t n) override {
    const auto a = torch::rand({n}, torch::kDouble) * 2 * M_PI;
    return torch::stack({torch::cos(a), torch::sin(a)}, 1).to(torch::kFloat);
  }
};

}  // namespace priorlab::test
