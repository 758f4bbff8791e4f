// Objective "free_bits": the beta-ELBO of `elbo` with its rate replaced by free bits (Kingma et
// al. 2016, "Improved variational inference with inverse autoregressive flow", the free-bits
// objective of its appendix), as the authors' reference code openai/iaf computes it (tf_train.py,
// IAFLayer.down; models.py, cvae1):
//
//   rate_bj = log q(z_bj|x_b) - log p_j(z_bj)                  single reparameterised sample
//   R_g     = (1/B) sum_b sum_{j in g} rate_bj                 batch-mean rate of group g
//   loss    = (1/B) sum_b -log p(x_b|z_b) + beta sum_g max(lambda, R_g)
//
// G contiguous equal groups of the D latent dimensions (0 = one per dimension, the reference's
// unit: one feature map); lambda in nats per group (kl_min = 0.25 in the reference). A group
// whose batch-mean rate is below lambda contributes the constant lambda: no gradient pulls its
// posterior towards the prior. lambda = 0 switches the constraint off (`if hps.kl_min > 0`):
// the loss is then the `elbo` objective's. G = 1 clamps the total rate and works with any
// prior; G > 1 needs a prior that factorises (Prior::log_prob_per_dimension).
// The reported terms are honest: rate is the unclamped per-example rate, as in `elbo`.
#include <cstdint>
#include <string>

#include <fmt/format.h>
#include <priorlab/sdk.hpp>

namespace {

using namespace priorlab;

class FreeBitsObjective : public Objective {
 public:
  static OptionSet options() {
    return OptionSet{}
        .add(Option::real("lambda", 0.25)
                 .min(0)
                 .help("free bits lambda, nats per group: a group's batch-mean rate counts as at least this much "
                       "(openai/iaf kl_min = 0.25); 0 = off, the elbo objective"))
        .add(Option::integer("groups", 0)
                 .min(0)
                 .help("G, contiguous equal groups of latent dimensions (D divisible by G); 0 = one per dimension; "
                       "1 = the total rate, for priors that do not factorise (mog, flow, vampprior, vhp)"));
  }

  explicit FreeBitsObjective(const BuildContext& ctx)
      : lambda_(ctx.options.real("lambda")),
        groups_(ctx.options.integer("groups")),
        groups_path_(ctx.path + "/options/groups") {
    if (ctx.latent_dim > 0) group_size(ctx.latent_dim);  // checks D % G now when D is known
  }

  ObjectiveTerms compute(const torch::Tensor& x, Network& network, Prior& prior, double beta) override {
    const DiagGaussian q = network.encode(x);           // [B, D]
    const auto z = sample_diag_gaussian(q);             // [B, D], the same draw as `elbo`
    const auto params = network.decode(z);              // [B, *S]
    const auto distortion = -network.log_likelihood(x, params);  // [B]
    const std::int64_t d = z.size(-1);
    const std::int64_t size = group_size(d);            // dimensions per group
    ObjectiveTerms t;
    torch::Tensor rate;                                 // [B], unclamped
    if (lambda_ == 0.0) {
      // The reference applies the constraint only when kl_min > 0: the elbo objective.
      rate = diag_gaussian_log_density(z, q.mu, q.logvar) - prior.log_prob(z);
      t.loss = (distortion + beta * rate).mean();
    } else if (size == d) {
      // One group: the total rate, from log_prob, so any prior serves.
      rate = diag_gaussian_log_density(z, q.mu, q.logvar) - prior.log_prob(z);
      t.loss = distortion.mean() + beta * torch::clamp_min(rate.mean(), lambda_);
    } else {
      const auto log_pz = prior.log_prob_per_dimension(z);  // [B, D]
      if (!log_pz.defined())
        throw Error(groups_path_,
                    fmt::format("groups = {} ({} groups of {} latent dimensions) needs the rate per latent "
                                "dimension, so a prior that factorises over the dimensions "
                                "(Prior::log_prob_per_dimension), but this prior returned none (a mixture, a flow "
                                "or a hierarchical prior does not factorise); set groups: 1 to clamp the total "
                                "rate, or use the gaussian prior",
                                groups_, d / size, size));
      if (log_pz.sizes() != z.sizes())
        throw Error(groups_path_, fmt::format("the prior's log_prob_per_dimension returned shape {} for z of shape {}",
                                              c10::str(log_pz.sizes()), c10::str(z.sizes())));
      const auto rate_per_dim = diag_gaussian_log_density_per_dimension(z, q.mu, q.logvar) - log_pz;  // [B, D]
      const auto group_rate = rate_per_dim.reshape({z.size(0), d / size, size}).sum(-1).mean(0);      // [G]
      rate = rate_per_dim.sum(-1);                                                                     // [B]
      t.loss = distortion.mean() + beta * torch::clamp_min(group_rate, lambda_).sum();
    }
    t.distortion = distortion.detach();
    t.rate = rate.detach();
    t.squared_error = (x - network.mean(params)).detach().pow(2).flatten(1).sum(1);
    return t;
  }

 private:
  /// Dimensions per group, D / G, for D latent dimensions (1 when G is 0 or D, D when G is 1).
  /// Throws unless G divides D.
  std::int64_t group_size(std::int64_t d) const {
    if (groups_ == 0) return 1;
    if (d % groups_ != 0)
      throw Error(groups_path_,
                  fmt::format("{} groups do not divide the latent dimension D = {} into equal contiguous groups; "
                              "choose a divisor of {} (0 = one group per dimension, 1 = the total rate)",
                              groups_, d, d));
    return d / groups_;
  }

  double lambda_;
  std::int64_t groups_;
  std::string groups_path_;
};

}  // namespace

PRIORLAB_PLUGIN(Objective, free_bits, FreeBitsObjective, "1.0.0",
                "beta-ELBO with free bits: the rate counts as sum over groups of max(lambda, batch-mean rate) "
                "(Kingma et al. 2016)")
