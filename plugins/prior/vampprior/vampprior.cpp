// Prior "vampprior": the variational mixture of posteriors (Tomczak & Welling 2018),
//
//   p(z) = (1/M) Σ_m q_φ(z | u_m),
//
// M learned pseudo-inputs u_m (this prior's parameters) pushed through the network's encoder
// (whose parameters stay the network's). log p(z) is exact: a log-sum-exp over the M components.
//
// Each component's log density is expanded so the [N, M] table comes from two matrix products
// instead of an [N, M, D] broadcast (M = 500, D = 32 and N = K·B = 1,600 would be 25.6M values
// per intermediate, each kept for the backward pass):
//   log N(z; μ_m, diag σ²_m) = −½ [ D log 2π + Σ_d log σ²_md + Σ_d z_d² / σ²_md
//                                   − 2 Σ_d z_d μ_md / σ²_md + Σ_d μ²_md / σ²_md ]
// The first and last sums are per component; the middle two are (z²) P ᵀ and z (μ P)ᵀ with
// P = 1/σ². The test checks it against the direct mixture in double precision.
#include <cmath>

#include <priorlab/sdk.hpp>

namespace {

using namespace priorlab;

class VampPrior : public Prior {
 public:
  static OptionSet options() {
    return OptionSet{}
        .add(Option::integer("components", 500).min(1).help("M, the number of pseudo-inputs"))
        .add(Option::real("init_mean", 0.05).help("pseudo-inputs start as N(init_mean, init_std^2) per data value"))
        .add(Option::real("init_std", 0.01).min(0).help("see init_mean"))
        .add(Option::real("input_min", 0.0).help("pseudo-inputs are clamped to [input_min, input_max] before encoding"))
        .add(Option::real("input_max", 1.0).help("see input_min (the data's range; the VampPrior code's hardtanh)"));
  }

  explicit VampPrior(const BuildContext& ctx)
      : network_(ctx.network), min_(ctx.options.real("input_min")), max_(ctx.options.real("input_max")) {
    if (!network_) throw Error(ctx.path, "needs the pipeline's network: the pseudo-inputs go through its encoder");
    if (ctx.data.shape.empty()) throw Error(ctx.path, "needs the data's shape for the pseudo-inputs");
    if (!(min_ < max_))
      throw Error(ctx.path + "/options/input_min", "must be below input_max (" + std::to_string(min_) + " >= " +
                                                       std::to_string(max_) + ")");
    std::vector<std::int64_t> shape{ctx.options.integer("components")};
    shape.insert(shape.end(), ctx.data.shape.begin(), ctx.data.shape.end());
    pseudo_ = register_parameter(
        "pseudo_inputs", torch::randn(shape) * ctx.options.real("init_std") + ctx.options.real("init_mean"));
  }

  /// The M components q(z|u_m): mu, logvar [M, D].
  DiagGaussian components() { return network_->encode(pseudo_.clamp(min_, max_)); }

  torch::Tensor log_prob(const torch::Tensor& z) override {
    const DiagGaussian c = components();
    const auto precision = torch::exp(-c.logvar);                    // [M, D]
    const auto per_component = (c.logvar + c.mu.pow(2) * precision).sum(-1);  // [M]
    const auto flat = z.reshape({-1, z.size(-1)});                   // [N, D]
    const auto quad = flat.pow(2).matmul(precision.t()) - 2 * flat.matmul((c.mu * precision).t());  // [N, M]
    const auto log_components = -0.5 * (quad + per_component + z.size(-1) * std::log(2 * M_PI));
    const auto log_p = torch::logsumexp(log_components, -1) - std::log(static_cast<double>(c.mu.size(0)));
    return log_p.reshape(z.sizes().slice(0, z.dim() - 1));
  }

  /// m ~ U{1..M}, z ~ q(z|u_m).
  torch::Tensor sample(std::int64_t n) override {
    const DiagGaussian c = components();
    const auto m = torch::randint(c.mu.size(0), {n}, torch::TensorOptions().dtype(torch::kLong).device(c.mu.device()));
    return sample_diag_gaussian({c.mu.index_select(0, m), c.logvar.index_select(0, m)});
  }

 private:
  std::shared_ptr<Network> network_;  // shared with the pipeline, not a submodule: its parameters are the network's
  double min_, max_;
  torch::Tensor pseudo_;
};

}  // namespace

PRIORLAB_PLUGIN(Prior, vampprior, VampPrior, "1.0.0",
                "VampPrior: uniform mixture of the encoder's posteriors at M learned pseudo-inputs")
