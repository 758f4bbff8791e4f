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
//
// Two options for the collapse study (docs/experiments/pendulum.md), both off by default:
// - standardise: the MLPs see u = (z − m) / s, with m, s running means (momentum 0.99) of the
//   training batches' mean and standard deviation of z, so that the upper layer meets z at unit
//   scale however far the autoencoder phase spread it. The density is the same model written in
//   u: p(z) = p_u((z − m) / s) / Π_d s_d, i.e. p(z|ζ) = N(m + s μ_u(ζ), s² σ_u²(ζ)).
// - upper_free_bits λ (Kingma et al. 2016, per dimension of ζ): while training, a dimension j
//   whose batch-mean KL_j = KL(q(ζ_j|z) || N(0, 1)) is below λ nats gets its KL added back to the
//   gradient, Σ_j 1[KL_j < λ] KL_j(z): in expectation (exactly for K = 1, where the bound is
//   E log p(z|ζ) − KL) the pull of q(ζ|z) towards p(ζ) is cancelled below λ. Gradient only: the
//   value returned is the bound.
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
                 .help("lower clamp of the log-variances of p(z|zeta) and q(zeta|z) (keeps the densities finite)"))
        .add(Option::boolean("standardise", false)
                 .help("the MLPs see z standardised by running batch statistics (momentum 0.99); the density "
                       "includes the Jacobian"))
        .add(Option::real("upper_free_bits", 0.0)
                 .min(0)
                 .help("free bits per dimension of zeta (nats): below it, the KL of q(zeta|z) to p(zeta) exerts "
                       "no pull in training (Kingma et al. 2016); 0 = off"));
  }

  explicit VhpPrior(const BuildContext& ctx)
      : latent_(ctx.latent_dim),
        zeta_(ctx.options.integer("zeta_dim") > 0 ? ctx.options.integer("zeta_dim") : ctx.latent_dim),
        samples_(ctx.options.integer("samples")),
        logvar_min_(ctx.options.real("logvar_min")),
        standardise_(ctx.options.boolean("standardise")),
        free_bits_(ctx.options.real("upper_free_bits")) {
    if (latent_ < 1) throw Error(ctx.path, "needs the network's latent dimension");
    const auto hidden = ctx.options.int_list("hidden");
    const auto activation = ctx.options.string("activation");
    const auto layer = ctx.options.string("layer");
    q_zeta_ = register_module("q_zeta", make_mlp(latent_, hidden, 2 * zeta_, activation, layer));
    p_z_ = register_module("p_z", make_mlp(zeta_, hidden, 2 * latent_, activation, layer));
    // A zero-size buffer that follows the module's device and dtype, for sample().
    anchor_ = register_buffer("anchor", torch::zeros({0}));
    if (standardise_) {
      z_mean_ = register_buffer("z_mean", torch::zeros({latent_}));
      z_scale_ = register_buffer("z_scale", torch::ones({latent_}));
      z_batches_ = register_buffer("z_batches", torch::zeros({1}));
    }
  }

  /// q_Φ(ζ|z) for z [..., D] -> [..., Dζ].
  DiagGaussian upper_posterior(const torch::Tensor& z) override { return split(q_zeta_->forward(standardised(z))); }
  /// The collapse diagnostics' view of ζ: q(ζ|z) against p(ζ) = N(0, I) (the SDK's default). When ζ
  /// is dead, p(z|ζ) ignores it and p(z) is the one Gaussian p(z|ζ) at any ζ.
  std::vector<UpperLayer> upper_layers(const torch::Tensor& z) override {
    auto layers = Prior::upper_layers(z);  // through upper_posterior(): standardised like log_prob
    layers.front().when_collapsed = "the prior is a single Gaussian";
    return layers;
  }
  /// p_Θ(z|ζ) for ζ [..., Dζ] -> [..., D].
  DiagGaussian conditional(const torch::Tensor& zeta) { return split(p_z_->forward(zeta)); }

  torch::Tensor log_prob(const torch::Tensor& z) override {
    const bool training = is_training() && torch::GradMode::is_enabled();
    if (standardise_ && training) track(z);
    const auto u = standardised(z);                                          // [..., D]
    const DiagGaussian q = split(q_zeta_->forward(u));                       // [..., Dζ]
    const auto zeta = sample_diag_gaussian(q, samples_);                     // [K, ..., Dζ]
    const DiagGaussian p = conditional(zeta);                                // [K, ..., D], in u
    const auto log_p_u_given_zeta = diag_gaussian_log_density(u, p.mu, p.logvar);  // u broadcasts -> [K, ...]
    const auto log_p_zeta = standard_normal_log_density(zeta);                    // [K, ...]
    const auto log_q_zeta = diag_gaussian_log_density(zeta, q.mu, q.logvar);      // [K, ...]
    auto bound = importance_weighted_bound(log_p_u_given_zeta + log_p_zeta - log_q_zeta);  // [...]
    if (standardise_) bound = bound - z_scale_.log().sum();  // the Jacobian of z -> u
    if (free_bits_ > 0 && training) {
      const auto kl = kl_to_standard_normal_per_dimension(q);                          // [..., Dζ]
      const auto below = (kl.detach().reshape({-1, zeta_}).mean(0) < free_bits_).to(kl.dtype());  // [Dζ]
      const auto add_back = (kl * below).sum(-1);                                      // [...]
      bound = bound + (add_back - add_back.detach());  // the gradient changes, the value does not
    }
    return bound;
  }

  std::int64_t bound_samples() const override { return samples_; }
  void set_bound_samples(std::int64_t k) override {
    if (k < 1) throw Error("prior vhp", "the number of importance samples must be at least 1, got " + std::to_string(k));
    samples_ = k;
  }

  torch::Tensor sample(std::int64_t n) override {
    const auto zeta = torch::randn({n, zeta_}, anchor_.options());  // ζ ~ N(0, I)
    const auto u = sample_diag_gaussian(conditional(zeta));         // z ~ p_Θ(z|ζ), in u
    return standardise_ ? z_mean_ + z_scale_ * u : u;
  }

 private:
  torch::Tensor standardised(const torch::Tensor& z) const { return standardise_ ? (z - z_mean_) / z_scale_ : z; }

  /// The running statistics of the training batches' z [..., D] (the first batch sets them).
  void track(const torch::Tensor& z) {
    torch::NoGradGuard no_grad;
    const auto flat = z.detach().reshape({-1, latent_});
    const auto mean = flat.mean(0), scale = flat.std(0, /*unbiased=*/false).clamp_min(1e-3);
    const auto keep = (z_batches_ > 0).to(mean.dtype()) * 0.99;  // no host transfer in the training step
    z_mean_.mul_(keep).add_((1 - keep) * mean);
    z_scale_.mul_(keep).add_((1 - keep) * scale);
    z_batches_.add_(1);
  }

  DiagGaussian split(const torch::Tensor& h) const {
    const auto parts = h.chunk(2, -1);
    return {parts[0], parts[1].clamp_min(logvar_min_)};
  }

  std::int64_t latent_, zeta_, samples_;
  double logvar_min_;
  bool standardise_;
  double free_bits_;
  torch::nn::Sequential q_zeta_{nullptr}, p_z_{nullptr};
  torch::Tensor anchor_, z_mean_, z_scale_, z_batches_;
};

}  // namespace

PRIORLAB_PLUGIN(Prior, vhp, VhpPrior, "1.0.0",
                "variational hierarchical prior p(z) = int p(z|zeta) N(zeta; 0, I) dzeta, K-sample IW bound (Eq. 8, 9)")
