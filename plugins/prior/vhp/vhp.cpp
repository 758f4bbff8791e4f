// Prior "vhp": the variational hierarchical prior (Klushyn et al. 2019, Eq. 8, 9).
//
//   p_Θ(z)        = ∫ p_Θ(z|ζ) p(ζ) dζ,   p(ζ) = N(0, I)
//   p_Θ(z|ζ)      = N(z; mu_p(ζ), diag exp(logvar_p(ζ)))      MLP "p_z":     ζ -> (mu, logvar)
//   q_Φ(ζ|z)      = N(ζ; mu_q(z), diag exp(logvar_q(z)))      MLP "q_zeta":  z -> (mu, logvar)
// Both MLPs come from the SDK's make_mlp: dense hidden layers (Table 3's pendulum and mocap
// conditionals, ReLU) or GatedDense ones (Table 3's MNIST family: GatedFC, linear activation).
//   log p_Θ(z)   >= log (1/K) Σ_k p_Θ(z|ζ_k) p(ζ_k) / q_Φ(ζ_k|z),   ζ_k ~ q_Φ(ζ|z) (reparameterised)
//
// log_prob() returns that K-sample importance-weighted bound, vectorised over the K samples.
// sample() draws ζ ~ N(0, I) and then z ~ p_Θ(z|ζ) (a sample, not the mean).
#include <priorlab/sdk.hpp>

namespace {

using namespace priorlab;

class VhpPrior : public Prior {
 public:
  static OptionSet options() {
    return OptionSet{}
        .add(Option::integer("samples", 16).min(1).help("K, importance samples of zeta per z in the bound (Eq. 9)"))
        .add(Option::integer("zeta_dim", 0).min(0).help("dimension of zeta; 0 = the latent dimension of z"))
        .add(Option::int_list("hidden", {256, 256}).min(1).max(1 << 20).help("hidden widths of both MLPs ([] = linear maps)"))
        .add(Option::string("layer", "dense")
                 .choices(mlp_layers())
                 .help("hidden layers of both MLPs: dense = Linear + activation; gated = GatedDense, "
                       "activation on its first factor (Table 3's GatedFC: gated, linear)"))
        .add(Option::string("activation", "tanh").choices(mlp_activations()).help("hidden-layer activation of both MLPs"))
        .add(Option::real("logvar_min", -10.0)
                 .help("lower clamp of the log-variances of p(z|zeta) and q(zeta|z) (keeps the densities finite)"));
  }

  explicit VhpPrior(const BuildContext& ctx)
      : latent_(ctx.latent_dim),
        zeta_(ctx.options.integer("zeta_dim") > 0 ? ctx.options.integer("zeta_dim") : ctx.latent_dim),
        samples_(ctx.options.integer("samples")),
        logvar_min_(ctx.options.real("logvar_min")) {
    if (latent_ < 1) throw Error(ctx.path, "needs the network's latent dimension");
    const auto hidden = ctx.options.int_list("hidden");
    const auto activation = ctx.options.string("activation");
    const auto layer = ctx.options.string("layer");
    q_zeta_ = register_module("q_zeta", make_mlp(latent_, hidden, 2 * zeta_, activation, layer));
    p_z_ = register_module("p_z", make_mlp(zeta_, hidden, 2 * latent_, activation, layer));
    // A zero-size buffer that follows the module's device and dtype, for sample().
    anchor_ = register_buffer("anchor", torch::zeros({0}));
  }

  /// q_Φ(ζ|z) for z [..., D] -> [..., Dζ].
  DiagGaussian upper_posterior(const torch::Tensor& z) override { return split(q_zeta_->forward(z)); }
  /// p_Θ(z|ζ) for ζ [..., Dζ] -> [..., D].
  DiagGaussian conditional(const torch::Tensor& zeta) { return split(p_z_->forward(zeta)); }

  torch::Tensor log_prob(const torch::Tensor& z) override {
    const DiagGaussian q = upper_posterior(z);                                     // [..., Dζ]
    const auto zeta = sample_diag_gaussian(q, samples_);                     // [K, ..., Dζ]
    const DiagGaussian p = conditional(zeta);                                // [K, ..., D]
    const auto log_p_z_given_zeta = diag_gaussian_log_density(z, p.mu, p.logvar);  // z broadcasts -> [K, ...]
    const auto log_p_zeta = standard_normal_log_density(zeta);                    // [K, ...]
    const auto log_q_zeta = diag_gaussian_log_density(zeta, q.mu, q.logvar);      // [K, ...]
    return importance_weighted_bound(log_p_z_given_zeta + log_p_zeta - log_q_zeta);  // [...]
  }

  std::int64_t bound_samples() const override { return samples_; }
  void set_bound_samples(std::int64_t k) override {
    if (k < 1) throw Error("prior vhp", "the number of importance samples must be at least 1, got " + std::to_string(k));
    samples_ = k;
  }

  torch::Tensor sample(std::int64_t n) override {
    const auto zeta = torch::randn({n, zeta_}, anchor_.options());  // ζ ~ N(0, I)
    return sample_diag_gaussian(conditional(zeta));                 // z ~ p_Θ(z|ζ)
  }

 private:
  DiagGaussian split(const torch::Tensor& h) const {
    const auto parts = h.chunk(2, -1);
    return {parts[0], parts[1].clamp_min(logvar_min_)};
  }

  std::int64_t latent_, zeta_, samples_;
  double logvar_min_;
  torch::nn::Sequential q_zeta_{nullptr}, p_z_{nullptr};
  torch::Tensor anchor_;
};

}  // namespace

PRIORLAB_PLUGIN(Prior, vhp, VhpPrior, "1.0.0",
                "variational hierarchical prior p(z) = int p(z|zeta) N(zeta; 0, I) dzeta, K-sample IW bound (Eq. 8, 9)")
