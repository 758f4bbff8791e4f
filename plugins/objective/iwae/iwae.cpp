// Objective "iwae": the K-sample importance-weighted bound (Burda et al. 2016) as the training
// objective, with β on the prior/posterior part so the β-schedulers still apply:
//
//   z_k ~ q(z|x) (reparameterised),  k = 1..K
//   log w_k = log p(x|z_k) − β [log q(z_k|x) − log p(z_k)]
//   loss    = −(1/B) Σ_b log (1/K) Σ_k w_k
//
// β = 1 gives the IWAE bound, which rises with K towards log p(x); K = 1 is the β-ELBO of the
// `elbo` objective, sample for sample. With any prior: for `vhp` with samples = 1, log p(z_k) is
// log p(z_k|ζ_k) + log p(ζ_k) − log q(ζ_k|z_k) for one ζ_k ~ q(ζ|z_k), so w_k is the two-layer
// weight p(x|z_k) p(z_k|ζ_k) p(ζ_k) / (q(z_k|x) q(ζ_k|z_k)): the IWAE with L = 2 (Table 2).
#include <priorlab/sdk.hpp>

namespace {

using namespace priorlab;

class IwaeObjective : public Objective {
 public:
  static OptionSet options() {
    return OptionSet{}.add(Option::integer("samples", 5).min(1).help("K, importance samples of z per example"));
  }
  explicit IwaeObjective(const BuildContext& ctx) : samples_(ctx.options.integer("samples")) {}

  ObjectiveTerms compute(const torch::Tensor& x, Network& network, Prior& prior, double beta) override {
    const DiagGaussian q = network.encode(x);                           // [B, D]
    const auto z = sample_diag_gaussian(q, samples_);                   // [K, B, D]
    const auto params = network.decode(z);                              // [K, B, *S]
    const auto log_px = network.log_likelihood(x, params);              // [K, B]
    const auto rate = diag_gaussian_log_density(z, q.mu, q.logvar) - prior.log_prob(z);  // [K, B]
    ObjectiveTerms t;
    t.loss = -importance_weighted_bound(log_px - beta * rate).mean();
    // The reported terms are plain averages over the K samples (their sum is the single-sample
    // negative ELBO estimate), so the schedulers' constraint means what it means for `elbo`.
    t.distortion = -log_px.detach().mean(0);
    t.rate = rate.detach().mean(0);
    t.squared_error = (x - network.mean(params)).detach().pow(2).flatten(2).sum(2).mean(0);
    return t;
  }

 private:
  std::int64_t samples_;
};

}  // namespace

PRIORLAB_PLUGIN(Objective, iwae, IwaeObjective, "1.0.0",
                "K-sample importance-weighted bound, beta on the prior/posterior part (IWAE; L=2 with the vhp prior, samples=1)")
