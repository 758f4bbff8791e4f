// Objective "elbo": the beta form of Eq. 4/10 with a single reparameterised sample,
//   loss = mean_b { -log p(x|z) + beta [log q(z|x) - log p(z)] },  z ~ q(z|x).
// beta = 1 gives the negative ELBO. Not divided by the data dimension (DESIGN.md §4).
#include <priorlab/sdk.hpp>

namespace {

using namespace priorlab;

class ElboObjective : public Objective {
 public:
  static OptionSet options() { return {}; }
  explicit ElboObjective(const BuildContext&) {}

  ObjectiveTerms compute(const torch::Tensor& x, Network& network, Prior& prior, double beta) override {
    const DiagGaussian q = network.encode(x);          // [B, D]
    const auto z = sample_diag_gaussian(q);            // [B, D]
    const auto params = network.decode(z);             // [B, *S]
    const auto log_px = network.log_likelihood(x, params);            // [B]
    const auto log_qz = diag_gaussian_log_density(z, q.mu, q.logvar);  // [B]
    const auto log_pz = prior.log_prob(z);                             // [B]
    const auto distortion = -log_px;
    const auto rate = log_qz - log_pz;
    ObjectiveTerms t;
    t.loss = (distortion + beta * rate).mean();
    t.distortion = distortion.detach();
    t.rate = rate.detach();
    t.squared_error = (x - network.mean(params)).detach().pow(2).flatten(1).sum(1);
    return t;
  }
};

}  // namespace

PRIORLAB_PLUGIN(Objective, elbo, ElboObjective, "1.0.0", "beta-weighted ELBO, one reparameterised sample (Eq. 4/10)")
