#include "priorlab/diagnostics.hpp"

#include <limits>

namespace priorlab {

std::int64_t LayerActivity::active_units() const { return (activity > threshold).sum().item<std::int64_t>(); }

double LayerActivity::kl_total() const {
  return kl.defined() ? kl.sum().item<double>() : std::numeric_limits<double>::quiet_NaN();
}

LayerActivity layer_activity(std::string name, const torch::Tensor& means, const torch::Tensor& kl, double threshold) {
  LayerActivity a;
  a.name = std::move(name);
  a.threshold = threshold;
  const auto m = means.detach().to(torch::kCPU, torch::kDouble);  // [N, D]
  a.activity = m.var(0, /*unbiased=*/false);                       // [D]
  if (kl.defined()) a.kl = kl.detach().to(torch::kCPU, torch::kDouble).mean(0);  // [D]
  return a;
}

std::vector<LayerActivity> upper_layer_activity(Prior& prior, const torch::Tensor& z, double threshold) {
  torch::NoGradGuard no_grad;
  std::vector<LayerActivity> out;
  for (const UpperLayer& layer : prior.upper_layers(z)) {
    out.push_back(layer_activity(layer.name, layer.mean, layer.kl, threshold));
    out.back().when_collapsed = layer.when_collapsed;
  }
  return out;
}

}  // namespace priorlab
