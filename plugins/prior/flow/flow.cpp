// Prior "flow": a RealNVP prior (Dinh et al. 2017) learned jointly with the VAE, after the
// FlowPrior of Tomczak's intro_dgm (vaes/vae_priors_example.ipynb):
//
//   log p(z) = log N(f(z); 0, I) + log |det ∂f/∂z|
//
// f: z -> u is L affine coupling layers. Layer l keeps a part a of its input and moves the rest b:
//   s = tanh(S_l(a)),  t = T_l(a),   b' = (b − t) ⊙ exp(−s),   log |det| of the layer = −Σ s
// (a triangular Jacobian with diagonal 1 on a and exp(−s) on b). S_l and T_l are MLPs (the
// SDK's make_mlp); the tanh bounds each scale factor to (1/e, e). The parts alternate: with
// h = ⌈D/2⌉, even layers keep z[0, h) and move z[h, D), odd layers keep z[h, D) and move z[0, h).
// For D = 2 this is the reference's chunk-then-flip (its final flip only permutes u, and
// N(0, I) does not notice). sample(n): u ~ N(0, I), z = f⁻¹(u), the layers in reverse order,
// each b = b' ⊙ exp(s) + t with s, t from the kept part (which the layer leaves unchanged).
#include <string>
#include <utility>
#include <vector>

#include <priorlab/sdk.hpp>

namespace {

using namespace priorlab;

class FlowPrior : public Prior {
 public:
  static OptionSet options() {
    return OptionSet{}
        .add(Option::integer("layers", 3).min(1).max(1000).help("L, the number of affine coupling layers"))
        .add(Option::int_list("hidden", {256, 256})
                 .min(1)
                 .max(1 << 20)
                 .help("hidden widths of every scale (S) and translation (T) MLP ([] = linear maps)"))
        .add(Option::string("activation", "leaky_relu")
                 .choices(mlp_activations())
                 .help("hidden-layer activation of the MLPs"));
  }

  explicit FlowPrior(const BuildContext& ctx) : latent_(ctx.latent_dim), half_((ctx.latent_dim + 1) / 2) {
    if (latent_ < 1) throw Error(ctx.path, "needs the network's latent dimension");
    if (latent_ < 2)
      throw Error(ctx.path, "needs a latent dimension of at least 2 (a coupling layer splits z in two), got " +
                                std::to_string(latent_));
    const auto hidden = ctx.options.int_list("hidden");
    const auto activation = ctx.options.string("activation");
    scale_list_ = register_module("s", torch::nn::ModuleList());
    shift_list_ = register_module("t", torch::nn::ModuleList());
    for (std::int64_t l = 0; l < ctx.options.integer("layers"); ++l) {
      const Parts p = parts(static_cast<std::size_t>(l));
      scale_.push_back(make_mlp(p.keep_size, hidden, p.move_size, activation));
      shift_.push_back(make_mlp(p.keep_size, hidden, p.move_size, activation));
      scale_list_->push_back(scale_.back());
      shift_list_->push_back(shift_.back());
    }
    // A zero-size buffer that follows the module's device and dtype, for sample().
    anchor_ = register_buffer("anchor", torch::zeros({0}));
  }

  torch::Tensor log_prob(const torch::Tensor& z) override {
    const auto [u, log_det] = forward_flow(z);        // [..., D], [...]
    return standard_normal_log_density(u) + log_det;  // [...]
  }

  torch::Tensor sample(std::int64_t n) override {
    return inverse_flow(torch::randn({n, latent_}, anchor_.options()));  // u ~ N(0, I) -> z = f⁻¹(u)
  }

 private:
  /// Where layer l's kept part a and moved part b lie along the last dimension.
  struct Parts {
    std::int64_t keep_begin, keep_size, move_begin, move_size;
  };
  Parts parts(std::size_t l) const {
    const std::int64_t rest = latent_ - half_;
    return l % 2 == 0 ? Parts{0, half_, half_, rest} : Parts{half_, rest, 0, half_};
  }

  /// s = tanh(S_l(a)) and t = T_l(a) from the kept part a [..., |a|]: each [..., |b|].
  std::pair<torch::Tensor, torch::Tensor> scale_and_shift(std::size_t l, const torch::Tensor& a) {
    return {torch::tanh(scale_[l]->forward(a)), shift_[l]->forward(a)};
  }

  /// The kept and moved parts put back in place: [..., D].
  static torch::Tensor join(const Parts& p, const torch::Tensor& a, const torch::Tensor& b) {
    return p.keep_begin == 0 ? torch::cat({a, b}, -1) : torch::cat({b, a}, -1);
  }

  /// u = f(z) and log |det ∂f/∂z|: z [..., D] -> ([..., D], [...]).
  std::pair<torch::Tensor, torch::Tensor> forward_flow(const torch::Tensor& z) {
    torch::Tensor u = z, log_det;
    for (std::size_t l = 0; l < scale_.size(); ++l) {
      const Parts p = parts(l);
      const auto a = u.narrow(-1, p.keep_begin, p.keep_size), b = u.narrow(-1, p.move_begin, p.move_size);
      const auto [s, t] = scale_and_shift(l, a);
      u = join(p, a, (b - t) * torch::exp(-s));
      log_det = log_det.defined() ? log_det - s.sum(-1) : -s.sum(-1);
    }
    return {u, log_det};
  }

  /// z = f⁻¹(u): u [..., D] -> [..., D].
  torch::Tensor inverse_flow(const torch::Tensor& u) {
    torch::Tensor z = u;
    for (std::size_t l = scale_.size(); l-- > 0;) {
      const Parts p = parts(l);
      const auto a = z.narrow(-1, p.keep_begin, p.keep_size), b = z.narrow(-1, p.move_begin, p.move_size);
      const auto [s, t] = scale_and_shift(l, a);
      z = join(p, a, b * torch::exp(s) + t);
    }
    return z;
  }

  std::int64_t latent_, half_;
  std::vector<torch::nn::Sequential> scale_, shift_;  // S_l and T_l, registered through the lists below
  torch::nn::ModuleList scale_list_{nullptr}, shift_list_{nullptr};
  torch::Tensor anchor_;
};

}  // namespace

PRIORLAB_PLUGIN(Prior, flow, FlowPrior, "1.0.0",
                "RealNVP prior: log N(f(z); 0, I) + log|det df/dz|, L affine coupling layers with tanh-bounded scales")
