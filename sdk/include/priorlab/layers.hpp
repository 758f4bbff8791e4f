// Network building blocks every plugin may use: the multilayer perceptron, and the gated layers
// of the VampPrior code (Tomczak & Welling 2018, utils/nn.py) that the paper's Table 3 calls
// GatedFC and GatedConv. The network plugins (mlp, gated_mlp, gated_conv) and the vhp prior's
// conditionals are built from these, so each layer is defined once.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "priorlab/export.hpp"

namespace priorlab {

/// The activation names the layers below accept, for option declarations:
/// "relu" | "tanh" | "elu" | "softplus" | "leaky_relu" | "linear" (the identity).
PRIORLAB_API std::vector<std::string> mlp_activations();

/// The hidden-layer kinds make_mlp accepts: "dense" (Linear, then the activation) and "gated"
/// (GatedDense with the activation on its first factor; Table 3's GatedFC is "gated", "linear").
PRIORLAB_API std::vector<std::string> mlp_layers();

/// The named activation applied to x (element-wise; LibTorch's default parameters). Throws
/// priorlab::Error for an unknown name.
PRIORLAB_API torch::Tensor apply_activation(const torch::Tensor& x, const std::string& activation);

/// GatedDense: h = act(W_h x + b_h) * sigmoid(W_g x + b_g). Two Linear layers `h` and `g`, named
/// as in the VampPrior code, whose default, and Table 3's, is act = linear (none). (One
/// Linear(in, 2 out) split in halves computes the same; it measured no faster, forward plus
/// backward, on the CPU.)
class PRIORLAB_API GatedDenseImpl : public torch::nn::Module {
 public:
  GatedDenseImpl(std::int64_t in, std::int64_t out, const std::string& activation = "linear");

  /// [..., in] -> [..., out]
  torch::Tensor forward(const torch::Tensor& x);

  torch::nn::Linear h{nullptr}, g{nullptr};

 private:
  std::string activation_;
};
TORCH_MODULE(GatedDense);

/// GatedConv2d: h = conv_h(x) * sigmoid(conv_g(x)) (Dauphin et al. 2017, as in the VampPrior
/// code), two k x k convolutions `h` and `g` with the same stride and padding.
class PRIORLAB_API GatedConv2dImpl : public torch::nn::Module {
 public:
  GatedConv2dImpl(std::int64_t in, std::int64_t out, std::int64_t kernel, std::int64_t stride, std::int64_t padding);

  /// [N, in, H, W] -> [N, out, H', W']
  torch::Tensor forward(const torch::Tensor& x);

  torch::nn::Conv2d h{nullptr}, g{nullptr};
};
TORCH_MODULE(GatedConv2d);

/// A multilayer perceptron: Linear(in, h1) act ... Linear(hn, out), no activation at the end.
/// Submodules are numbered in order (a "linear" activation adds no module).
PRIORLAB_API torch::nn::Sequential make_mlp(std::int64_t in, const std::vector<std::int64_t>& hidden,
                                            std::int64_t out, const std::string& activation);

/// The same with a choice of hidden layer (mlp_layers()): "dense" is the overload above;
/// "gated" gives GatedDense(in, h1, act) ... GatedDense(.., hn, act), Linear(hn, out).
PRIORLAB_API torch::nn::Sequential make_mlp(std::int64_t in, const std::vector<std::int64_t>& hidden,
                                            std::int64_t out, const std::string& activation,
                                            const std::string& layer);

}  // namespace priorlab
