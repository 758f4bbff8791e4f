// Layers and helpers shared by the image networks of the paper's Table 3 (gated_conv,
// gated_mlp, conv64): the gated layers of the VampPrior code (Tomczak & Welling 2018,
// utils/nn.py), its He initialisation, the clamped log-variance head, the options every one of
// these networks declares, and the shape checks and leading-dimension handling of decode().
//
// Header-only so each plugin compiles its own copy (hidden visibility keeps the copies apart);
// the plugins' tests include it too, to check the layers against hand computations.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include <priorlab/sdk.hpp>

namespace priorlab::plugins {

/// GatedDense: h = (W_h x + b_h) * sigmoid(W_g x + b_g), no activation on the first factor (the
/// VampPrior code's default). Two Linear layers `h` and `g`, named as in that code. (One
/// Linear(in, 2 out) split in halves computes the same; it measured no faster, forward plus
/// backward, on the CPU.)
class GatedDenseImpl : public torch::nn::Module {
 public:
  GatedDenseImpl(std::int64_t in, std::int64_t out) {
    h = register_module("h", torch::nn::Linear(in, out));
    g = register_module("g", torch::nn::Linear(in, out));
  }

  /// [..., in] -> [..., out]
  torch::Tensor forward(const torch::Tensor& x) { return h->forward(x) * torch::sigmoid(g->forward(x)); }

  torch::nn::Linear h{nullptr}, g{nullptr};
};
TORCH_MODULE(GatedDense);

/// GatedConv2d: h = conv_h(x) * sigmoid(conv_g(x)) (Dauphin et al. 2017, as in the VampPrior
/// code), two k x k convolutions `h` and `g` with the same stride and padding.
class GatedConv2dImpl : public torch::nn::Module {
 public:
  GatedConv2dImpl(std::int64_t in, std::int64_t out, std::int64_t kernel, std::int64_t stride, std::int64_t padding) {
    const auto options = torch::nn::Conv2dOptions(in, out, kernel).stride(stride).padding(padding);
    h = register_module("h", torch::nn::Conv2d(options));
    g = register_module("g", torch::nn::Conv2d(options));
  }

  /// [N, in, H, W] -> [N, out, H', W']
  torch::Tensor forward(const torch::Tensor& x) { return h->forward(x) * torch::sigmoid(g->forward(x)); }

  torch::nn::Conv2d h{nullptr}, g{nullptr};
};
TORCH_MODULE(GatedConv2d);

/// Spatial size after a convolution: floor((size + 2 padding - kernel) / stride) + 1.
inline std::int64_t conv_output_size(std::int64_t size, std::int64_t kernel, std::int64_t stride,
                                     std::int64_t padding) {
  return (size + 2 * padding - kernel) / stride + 1;
}

/// The VampPrior code's he_init: every Linear weight ~ N(0, 2 / in_features); biases keep
/// LibTorch's default. Convolutions keep LibTorch's default too, as in that code.
inline void he_init_linear_layers(torch::nn::Module& module) {
  torch::NoGradGuard no_grad;
  for (const auto& m : module.modules(/*include_self=*/false)) {
    if (auto* linear = m->as<torch::nn::LinearImpl>())
      linear->weight.normal_(0.0, std::sqrt(2.0 / static_cast<double>(linear->options.in_features())));
  }
}

/// The bounds of the encoder's log-variance head (read by LogvarBounds below).
inline OptionSet& declare_logvar_bounds(OptionSet& set, double min_default, double max_default) {
  set.add(Option::real("logvar_min", min_default).help("lower clamp (Hardtanh) of the encoder's log-variance"));
  set.add(Option::real("logvar_max", max_default).help("upper clamp (Hardtanh) of the encoder's log-variance"));
  return set;
}

/// The options every image network declares first: latent_dim, and the bounds of the
/// log-variance head (the VampPrior code's Hardtanh(-6, 2)).
inline OptionSet& declare_latent_options(OptionSet& set) {
  set.add(Option::integer("latent_dim", 32).min(1).help("dimension D of z (32 for the paper's image experiments)"));
  return declare_logvar_bounds(set, -6.0, 2.0);
}

/// The SDK's likelihood options (Likelihood::options(), one declaration for every network)
/// with only the default of `likelihood` changed, e.g. to the paper's Bernoulli for images.
inline OptionSet& declare_likelihood_options(OptionSet& set, const std::string& default_likelihood) {
  for (const auto& o : Likelihood::options().items()) {
    if (o.name() != "likelihood") {
      set.add(o);
      continue;
    }
    json spec = o.to_json();
    spec["default"] = default_likelihood;
    set.add(Option::from_json(spec));
  }
  return set;
}

/// The clamped log-variance head: logvar = hardtanh(Linear(h), min, max).
class LogvarBounds {
 public:
  LogvarBounds(const Options& options, const std::string& path)
      : min_(options.real("logvar_min")), max_(options.real("logvar_max")) {
    if (!(min_ < max_)) {
      std::ostringstream message;
      message << "must be below logvar_max, found " << min_ << " >= " << max_;
      throw Error(path + "/options/logvar_min", message.str());
    }
  }
  torch::Tensor operator()(const torch::Tensor& logvar) const { return torch::hardtanh(logvar, min_, max_); }

 private:
  double min_;
  double max_;
};

/// "[1, 28, 28]"
inline std::string shape_string(torch::IntArrayRef sizes) {
  std::string s = "[";
  for (std::size_t i = 0; i < sizes.size(); ++i) s += (i ? ", " : "") + std::to_string(sizes[i]);
  return s + "]";
}

/// Throws Error(where, ...) unless x is [B, *shape].
inline void check_data_batch(const torch::Tensor& x, const std::vector<std::int64_t>& shape, const std::string& where) {
  const auto sizes = x.sizes();
  const bool ok = sizes.size() == shape.size() + 1 && std::equal(shape.begin(), shape.end(), sizes.begin() + 1);
  if (!ok)
    throw Error(where,
                "encode expects x of shape [B, " + shape_string(shape).substr(1) + ", found " + shape_string(sizes));
}

/// Throws Error(where, ...) unless z is [..., latent].
inline void check_latent_batch(const torch::Tensor& z, std::int64_t latent, const std::string& where) {
  if (z.dim() < 1 || z.size(-1) != latent)
    throw Error(where,
                "decode expects z of shape [..., " + std::to_string(latent) + "], found " + shape_string(z.sizes()));
}

/// The shape of decode()'s output for z [..., D]: [..., *shape].
inline std::vector<std::int64_t> decoded_shape(const torch::Tensor& z, const std::vector<std::int64_t>& shape) {
  std::vector<std::int64_t> out(z.sizes().begin(), z.sizes().end() - 1);
  out.insert(out.end(), shape.begin(), shape.end());
  return out;
}

}  // namespace priorlab::plugins
