// Prior "laplace": independent Laplace(0, b) coordinates, p(z) = prod_d exp(-|z_d|/b) / (2b).
// The example of docs/writing-a-plugin.md, built by a test against the installed SDK.
#include <cmath>

#include <priorlab/sdk.hpp>

namespace {

class LaplacePrior : public priorlab::Prior {
 public:
  static priorlab::OptionSet options() {
    return priorlab::OptionSet{}.add(priorlab::Option::real("scale", 1.0).greater_than(0).help("b, the scale of each coordinate"));
  }

  explicit LaplacePrior(const priorlab::BuildContext& ctx) : dim_(ctx.latent_dim), scale_(ctx.options.real("scale")) {
    anchor_ = register_buffer("anchor", torch::zeros({0}));  // follows the module's device
  }

  // log p(z) = sum_d [ -|z_d| / b - log(2b) ]: [..., D] -> [...]
  torch::Tensor log_prob(const torch::Tensor& z) override {
    return (-z.abs() / scale_ - std::log(2 * scale_)).sum(-1);
  }

  // Inverse CDF: u ~ U(-1/2, 1/2), z = -b sign(u) log(1 - 2|u|).
  torch::Tensor sample(std::int64_t n) override {
    // rand() is in [0, 1); keep |u| < 1/2 so log1p(-2|u|) stays finite.
    const auto u = (torch::rand({n, dim_}, anchor_.options()) - 0.5).clamp_min(-0.5 + 1e-7);
    return -scale_ * torch::sign(u) * torch::log1p(-2 * u.abs());
  }

 private:
  std::int64_t dim_;
  double scale_;
  torch::Tensor anchor_;
};

}  // namespace

PRIORLAB_PLUGIN(Prior, laplace, LaplacePrior, "1.0.0", "factorised Laplace(0, b) prior (out-of-tree example)")
