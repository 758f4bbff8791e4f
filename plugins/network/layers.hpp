// Helpers shared by the image networks of the paper's Table 3 (gated_conv, gated_mlp, conv64):
// the VampPrior code's He initialisation (Tomczak & Welling 2018), the clamped log-variance head,
// the options every one of these networks declares, and the shape checks and leading-dimension
// handling of decode().
//
// The gated layers themselves (GatedDense, GatedConv2d) are the SDK's (priorlab/layers.hpp), shared
// with the vhp prior. Header-only so each plugin compiles its own copy (hidden visibility keeps
// the copies apart); the plugins' tests include it too.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include <priorlab/sdk.hpp>

namespace priorlab::plugins {

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
