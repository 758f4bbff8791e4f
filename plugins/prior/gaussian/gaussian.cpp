// Prior "gaussian": the standard normal p(z) = N(0, I), no parameters.
#include <priorlab/sdk.hpp>

namespace {

using namespace priorlab;

class GaussianPrior : public Prior {
 public:
  static OptionSet options() { return {}; }

  explicit GaussianPrior(const BuildContext& ctx) : latent_(ctx.latent_dim) {
    if (latent_ < 1) throw Error(ctx.path, "needs the network's latent dimension");
    // A zero-size buffer that follows the module's device, so sample() knows where to go.
    anchor_ = register_buffer("anchor", torch::zeros({0}));
  }

  torch::Tensor log_prob(const torch::Tensor& z) override { return standard_normal_log_density(z); }
  // N(0, I) factorises: log N(z_j; 0, 1) per dimension (free bits' per-dimension rate).
  torch::Tensor log_prob_per_dimension(const torch::Tensor& z) override {
    return diag_gaussian_log_density_per_dimension(z, torch::zeros_like(z), torch::zeros_like(z));
  }
  torch::Tensor sample(std::int64_t n) override { return torch::randn({n, latent_}, anchor_.options()); }

 private:
  std::int64_t latent_;
  torch::Tensor anchor_;
};

}  // namespace

PRIORLAB_PLUGIN(Prior, gaussian, GaussianPrior, "1.0.0", "standard normal prior N(0, I)")
