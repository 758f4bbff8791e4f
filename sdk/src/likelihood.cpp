#include "priorlab/likelihood.hpp"

#include <cmath>

#include "priorlab/error.hpp"
#include "priorlab/math.hpp"

namespace priorlab {

Likelihood::Likelihood(std::string kind, std::string output, double sigma, bool learn_sigma,
                       std::vector<std::int64_t> data_shape)
    : kind_(std::move(kind)),
      output_(std::move(output)),
      sigma_(sigma),
      event_dims_(static_cast<std::int64_t>(data_shape.size())) {
  if (kind_ != "gaussian" && kind_ != "bernoulli") throw Error("likelihood", "unknown kind '" + kind_ + "'");
  if (kind_ == "gaussian" && !(sigma_ > 0)) throw Error("likelihood", "sigma must be > 0");
  if (kind_ == "gaussian" && learn_sigma)
    log_sigma_ = register_parameter("log_sigma", torch::full(data_shape, std::log(sigma_)));
}

OptionSet Likelihood::options() {
  return OptionSet{}
      .add(Option::string("likelihood", "gaussian")
               .choices({"gaussian", "bernoulli"})
               .help("p(x|z): Gaussian (continuous data) or Bernoulli (binary or grey values in [0,1])"))
      .add(Option::string("decoder_output", "linear")
               .choices({"linear", "sigmoid"})
               .help("Gaussian mean = the raw decoder output (Table 3's 'Gaussian'), or sigmoid(decoder) for data "
                     "in [0,1] (saturates: slows the autoencoder phase, docs/experiments/pendulum.md)"))
      .add(Option::real("decoder_sigma", 0.1)
               .greater_than(0)
               .help("Gaussian decoder standard deviation (fixed, or the initial value when learned)"))
      .add(Option::boolean("learn_sigma", false).help("learn one Gaussian log-sigma per data dimension"));
}

std::shared_ptr<Likelihood> Likelihood::from_options(const Options& o, std::vector<std::int64_t> data_shape) {
  return std::make_shared<Likelihood>(o.string("likelihood"), o.string("decoder_output"), o.real("decoder_sigma"),
                                      o.boolean("learn_sigma"), std::move(data_shape));
}

torch::Tensor Likelihood::mean(const torch::Tensor& params) const {
  if (kind_ == "bernoulli" || output_ == "sigmoid") return torch::sigmoid(params);
  return params;
}

torch::Tensor Likelihood::params_for_mean(const torch::Tensor& m) const {
  if (kind_ == "gaussian" && output_ == "linear") return m;
  return torch::logit(m, 1e-6);  // logit(clamp(m, eps, 1 - eps))
}

torch::Tensor LikelihoodNetwork::log_likelihood(const torch::Tensor& x, const torch::Tensor& params) {
  return likelihood_->log_prob(x, params);
}
torch::Tensor LikelihoodNetwork::mean(const torch::Tensor& params) { return likelihood_->mean(params); }
torch::Tensor LikelihoodNetwork::params_for_mean(const torch::Tensor& m) { return likelihood_->params_for_mean(m); }
void LikelihoodNetwork::set_likelihood(const Options& options, std::vector<std::int64_t> data_shape) {
  likelihood_ = register_module("likelihood", Likelihood::from_options(options, std::move(data_shape)));
}

torch::Tensor Likelihood::log_prob(const torch::Tensor& x, const torch::Tensor& params) const {
  if (kind_ == "bernoulli") return bernoulli_log_likelihood(x, params, event_dims_);
  // Gaussian: sum over data dims of log N(x; mean, sigma^2). Flatten the event dims so the
  // SDK's diagonal-Gaussian density (which sums the last dim) serves here too.
  const auto m = mean(params);
  const auto flat_m = m.flatten(m.dim() - event_dims_);
  const auto flat_x = x.flatten(x.dim() - event_dims_);
  const auto logvar = log_sigma_.defined() ? (2.0 * log_sigma_).flatten()
                                           : torch::full({1}, 2.0 * std::log(sigma_), m.options());
  return diag_gaussian_log_density(flat_x, flat_m, logvar);
}

}  // namespace priorlab
