#include "engine/fused_adam.hpp"

#include <ATen/Parallel.h>

#include <cmath>

namespace priorlab::host {

namespace {

bool fusable(const torch::Tensor& p, const torch::Tensor& g, const torch::optim::AdamOptions& o) {
  return !o.amsgrad() && o.weight_decay() == 0 && p.device().is_cpu() && p.scalar_type() == torch::kFloat &&
         g.scalar_type() == torch::kFloat && !g.is_sparse() && p.is_contiguous() && g.is_contiguous();
}

}  // namespace

torch::Tensor FusedAdam::step(LossClosure closure) {
  for (auto& group : param_groups_) {
    const auto& o = static_cast<const torch::optim::AdamOptions&>(group.options());
    for (auto& p : group.params()) {
      if (!p.grad().defined()) continue;
      if (!fusable(p, p.grad(), o)) return torch::optim::Adam::step(std::move(closure));
    }
  }
  torch::NoGradGuard no_grad;
  torch::Tensor loss;
  if (closure) {
    at::AutoGradMode enable_grad(true);
    loss = closure();
  }
  for (auto& group : param_groups_) {
    const auto& o = static_cast<const torch::optim::AdamOptions&>(group.options());
    const double beta1 = std::get<0>(o.betas()), beta2 = std::get<1>(o.betas());
    for (auto& p : group.params()) {
      if (!p.grad().defined()) continue;
      const auto key = c10::guts::to_string(p.unsafeGetTensorImpl());  // torch::optim::Adam's key
      auto it = state_.find(key);
      if (it == state_.end()) {
        auto fresh = std::make_unique<torch::optim::AdamParamState>();
        fresh->step(0);
        fresh->exp_avg(torch::zeros_like(p, torch::MemoryFormat::Preserve));
        fresh->exp_avg_sq(torch::zeros_like(p, torch::MemoryFormat::Preserve));
        it = state_.emplace(key, std::move(fresh)).first;
      }
      auto& state = static_cast<torch::optim::AdamParamState&>(*it->second);
      state.step(state.step() + 1);
      const double bias1 = 1 - std::pow(beta1, state.step()), bias2 = 1 - std::pow(beta2, state.step());
      // The scalars as LibTorch's float kernels see them (a double Scalar cast to float).
      const float b1 = static_cast<float>(beta1), c1 = static_cast<float>(1 - beta1);
      const float b2 = static_cast<float>(beta2), c2 = static_cast<float>(1 - beta2);
      const float sqrt_bias2 = static_cast<float>(std::sqrt(bias2)), eps = static_cast<float>(o.eps());
      const float neg_step = static_cast<float>(-(o.lr() / bias1));
      float* __restrict__ w = p.data_ptr<float>();
      const float* __restrict__ g = p.grad().data_ptr<float>();
      float* __restrict__ m = state.exp_avg().data_ptr<float>();
      float* __restrict__ v = state.exp_avg_sq().data_ptr<float>();
      at::parallel_for(0, p.numel(), 1 << 15, [&](std::int64_t begin, std::int64_t end) {
        for (std::int64_t i = begin; i < end; ++i) {
          const float gi = g[i];
          const float mi = m[i] * b1 + c1 * gi;
          const float vi = v[i] * b2 + c2 * (gi * gi);
          m[i] = mi;
          v[i] = vi;
          w[i] = w[i] + neg_step * (mi / (std::sqrt(vi) / sqrt_bias2 + eps));
        }
      });
    }
  }
  return loss;
}

}  // namespace priorlab::host
