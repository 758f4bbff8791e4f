// Decoder likelihoods p(x|z): what a network's decoder output means in data space.
#pragma once

#include <cstdint>
#include <string>

#include <torch/torch.h>

#include "priorlab/export.hpp"
#include "priorlab/network.hpp"
#include "priorlab/options.hpp"

namespace priorlab {

/// Turns decoder outputs ("params", the same shape as the data) into log p(x|z) and a mean.
///   bernoulli: params are logits; mean = sigmoid(params).
///   gaussian:  mean = sigmoid(params) or params (output "sigmoid" / "linear"), with a fixed
///              standard deviation sigma, or one learned log-sigma per data dimension.
class PRIORLAB_API Likelihood : public torch::nn::Module {
 public:
  /// kind: "gaussian" | "bernoulli"; output: "sigmoid" | "linear"; sigma > 0 (gaussian);
  /// learn_sigma: learn one log-sigma per data dimension (initialised at log sigma).
  Likelihood(std::string kind, std::string output, double sigma, bool learn_sigma,
             std::vector<std::int64_t> data_shape);

  /// The options a network plugin exposes for its likelihood (one declaration for all networks).
  static OptionSet options();
  /// Builds from options declared by options().
  static std::shared_ptr<Likelihood> from_options(const Options& options,
                                                  std::vector<std::int64_t> data_shape);

  /// log p(x | params) summed over the data dimensions: x [B, *S], params [..., B, *S] -> [..., B].
  torch::Tensor log_prob(const torch::Tensor& x, const torch::Tensor& params) const;
  /// The decoder mean in data space: [..., *S].
  torch::Tensor mean(const torch::Tensor& params) const;
  /// The inverse of mean(): logit(m) for bernoulli and sigmoid outputs (m clamped to
  /// [1e-6, 1 - 1e-6], so a pixel that is constant 0 or 1 costs about 1e-6 nats), m for linear.
  torch::Tensor params_for_mean(const torch::Tensor& mean) const;

  const std::string& kind() const { return kind_; }

 private:
  std::string kind_;
  std::string output_;
  double sigma_;
  std::int64_t event_dims_;
  torch::Tensor log_sigma_;  // [*S] when learned, undefined otherwise
};

/// A Network whose decoder outputs are the parameters of the Likelihood it holds:
/// log_likelihood, mean and params_for_mean are said here once for every such network. A
/// network plugin derives from it and calls set_likelihood() in its constructor (where it used
/// to register its own "likelihood" submodule: the name and the registration order are kept, so
/// checkpoints are unchanged).
class PRIORLAB_API LikelihoodNetwork : public Network {
 public:
  torch::Tensor log_likelihood(const torch::Tensor& x, const torch::Tensor& params) override;
  torch::Tensor mean(const torch::Tensor& params) override;
  torch::Tensor params_for_mean(const torch::Tensor& mean) override;

 protected:
  /// Builds the likelihood from options declared by Likelihood::options() for data of `data_shape`.
  void set_likelihood(const Options& options, std::vector<std::int64_t> data_shape);

 private:
  std::shared_ptr<Likelihood> likelihood_;
};

}  // namespace priorlab
