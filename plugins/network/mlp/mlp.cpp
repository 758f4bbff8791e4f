// Network "mlp": fully connected encoder q(z|x) and decoder p(x|z) (the paper's pendulum and
// motion-capture networks, Table 3), with a Gaussian or Bernoulli likelihood.
#include <priorlab/sdk.hpp>

#include "../layers.hpp"

namespace {

using namespace priorlab;
using namespace priorlab::plugins;

class MlpNetwork : public LikelihoodNetwork {
 public:
  static OptionSet options() {
    OptionSet set = OptionSet{}
                        .add(Option::integer("latent_dim", 2).min(1).help("dimension D of z"))
                        .add(Option::int_list("hidden", {256, 256}).min(1).max(1 << 20).help("hidden layer widths of the encoder (the decoder mirrors them)"))
                        .add(Option::string("activation", "relu").choices(mlp_activations()).help("hidden-layer activation"));
    // Why bound the log-variance at all: with beta << 1 (REWO's initial phase, beta = 1e-6) nothing
    // holds the encoder's variance, and its log-variance drifts down without limit. Measured on the
    // pendulum with 4 x 256 networks: the rate rose from 3.8 to 54 nats in 100 steps once z began
    // to carry the angle, and at logvar < -88 float32 gives exp(-logvar) = inf and
    // (z - mu)^2 * exp(-logvar) = 0 * inf = NaN (step 955). -10 is the VHP prior's floor
    // (sigma >= 0.0067), far below the posterior spreads of a trained model.
    declare_logvar_bounds(set, -10.0, 10.0);
    const OptionSet likelihood = Likelihood::options();
    for (const auto& o : likelihood.items()) set.add(o);
    return set;
  }

  explicit MlpNetwork(const BuildContext& ctx)
      : latent_(ctx.options.integer("latent_dim")),
        shape_(ctx.data.shape),
        in_(ctx.data.dimension()),
        logvar_bounds_(ctx.options, ctx.path) {
    const auto hidden = ctx.options.int_list("hidden");
    const auto activation = ctx.options.string("activation");
    encoder_ = register_module("encoder", make_mlp(in_, hidden, 2 * latent_, activation));
    decoder_ = register_module("decoder", make_mlp(latent_, {hidden.rbegin(), hidden.rend()}, in_, activation));
    set_likelihood(ctx.options, shape_);
  }

  std::int64_t latent_dim() const override { return latent_; }

  DiagGaussian encode(const torch::Tensor& x) override {
    const auto h = encoder_->forward(x.flatten(1));  // [B, 2D]
    const auto parts = h.chunk(2, -1);
    return {parts[0], logvar_bounds_(parts[1])};
  }

  torch::Tensor decode(const torch::Tensor& z) override {
    std::vector<std::int64_t> out(z.sizes().begin(), z.sizes().end() - 1);  // [..., *S]
    out.insert(out.end(), shape_.begin(), shape_.end());
    return decoder_->forward(z).reshape(out);
  }


 private:
  std::int64_t latent_;
  std::vector<std::int64_t> shape_;
  std::int64_t in_;
  LogvarBounds logvar_bounds_;
  torch::nn::Sequential encoder_{nullptr}, decoder_{nullptr};
};

}  // namespace

PRIORLAB_PLUGIN(Network, mlp, MlpNetwork, "1.0.0", "MLP encoder q(z|x) and mirrored decoder p(x|z), Gaussian or Bernoulli")
