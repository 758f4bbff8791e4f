// Prior "mog": a learned mixture of K diagonal Gaussians (the MoGPrior of Tomczak's intro_dgm,
// vaes/vae_priors_example.ipynb),
//
//   p(z) = Σ_k π_k N(z; μ_k, diag σ²_k),   π = softmax(w),   σ²_k = exp(logvar_k).
//
// μ [K, D], logvar [K, D] and the mixing logits w [K] are this prior's parameters. log p(z) is
// exact, a log-sum-exp over the components of the full D-dimensional Gaussians:
//   log p(z) = logsumexp_k [ log π_k + log N(z; μ_k, diag σ²_k) ]
// (the reference takes its log-sum-exp per dimension and sums over the dimensions afterwards,
// which is a product of D one-dimensional mixtures, not the mixture above).
// sample(): k ~ Categorical(π), then z = μ_k + exp(logvar_k / 2) ε (the reference scales ε by
// exp(logvar_k), the variance, instead of the standard deviation).
#include <priorlab/sdk.hpp>

namespace {

using namespace priorlab;

class MogPrior : public Prior {
 public:
  static OptionSet options() {
    return OptionSet{}
        .add(Option::integer("components", 16).min(1).help("K, the number of mixture components"))
        .add(Option::real("init_scale", 1.0).min(0).help("the means start as init_scale * N(0, I)"))
        .add(Option::real("init_logvar_std", 1.0)
                 .min(0)
                 .help("the log-variances start as init_logvar_std * N(0, I) (the reference's randn); "
                       "0 = unit variances"));
  }

  explicit MogPrior(const BuildContext& ctx) : latent_(ctx.latent_dim) {
    if (latent_ < 1) throw Error(ctx.path, "needs the network's latent dimension");
    const std::int64_t k = ctx.options.integer("components");
    means_ = register_parameter("means", torch::randn({k, latent_}) * ctx.options.real("init_scale"));
    logvars_ = register_parameter("logvars", torch::randn({k, latent_}) * ctx.options.real("init_logvar_std"));
    logits_ = register_parameter("logits", torch::zeros({k}));  // softmax(0): uniform weights
  }

  torch::Tensor log_prob(const torch::Tensor& z) override {
    const auto log_weights = torch::log_softmax(logits_, 0);                                   // [K]
    const auto log_components = diag_gaussian_log_density(z.unsqueeze(-2), means_, logvars_);  // [..., K]
    return torch::logsumexp(log_components + log_weights, -1);                                 // [...]
  }

  /// k ~ Categorical(softmax(w)), z ~ N(μ_k, diag σ²_k) -> [n, D].
  torch::Tensor sample(std::int64_t n) override {
    if (n == 0) return torch::empty({0, latent_}, means_.options());  // multinomial refuses 0 draws
    const auto k = torch::multinomial(torch::softmax(logits_.detach(), 0), n, /*replacement=*/true);  // [n]
    return sample_diag_gaussian({means_.index_select(0, k), logvars_.index_select(0, k)});
  }

 private:
  std::int64_t latent_;
  torch::Tensor means_, logvars_, logits_;
};

}  // namespace

PRIORLAB_PLUGIN(Prior, mog, MogPrior, "1.0.0", "learned mixture of K diagonal Gaussians, softmax mixing weights")
