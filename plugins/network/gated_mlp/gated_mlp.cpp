// Network "gated_mlp": gated fully connected encoder q(z|x) and decoder p(x|z), the MLP of the
// VampPrior code (Tomczak & Welling 2018, models/VAE.py) used for the paper's MNIST family:
//   encoder: GatedDense d -> 300 -> 300, Linear -> mu, Hardtanh(Linear) -> logvar;
//   decoder: GatedDense D -> 300 -> 300, Linear -> the likelihood's parameters (d values).
// Any data shape (flattened to d values).
#include <priorlab/sdk.hpp>

#include "../layers.hpp"

namespace {

using namespace priorlab;
using namespace priorlab::plugins;

class GatedMlpNetwork : public LikelihoodNetwork {
 public:
  static OptionSet options() {
    OptionSet set;
    declare_latent_options(set);
    set.add(Option::int_list("hidden", {300, 300})
                .min(1)
                .max(1 << 20)  // a 2^20-wide layer is already 4 TiB of weights: wider is a typo, and products overflow
                .help("widths of the encoder's GatedDense layers (the decoder mirrors them); [] gives linear maps"));
    declare_likelihood_options(set, "bernoulli");
    return set;
  }

  explicit GatedMlpNetwork(const BuildContext& ctx)
      : latent_(ctx.options.integer("latent_dim")),
        shape_(ctx.data.shape),
        path_(ctx.path),
        logvar_bounds_(ctx.options, ctx.path) {
    if (shape_.empty() || ctx.data.dimension() < 1)
      throw Error(ctx.path, "needs the data's shape (a dataset with examples of at least one value), found " +
                                shape_string(shape_));
    const auto hidden = ctx.options.int_list("hidden");
    const std::int64_t in = ctx.data.dimension();

    torch::nn::Sequential encoder;
    std::int64_t width = in;
    for (auto h : hidden) {
      encoder->push_back(GatedDense(width, h));
      width = h;
    }
    encoder_ = register_module("encoder", encoder);
    mu_ = register_module("mu", torch::nn::Linear(width, latent_));
    logvar_ = register_module("logvar", torch::nn::Linear(width, latent_));

    torch::nn::Sequential decoder;
    width = latent_;
    for (auto it = hidden.rbegin(); it != hidden.rend(); ++it) {
      decoder->push_back(GatedDense(width, *it));
      width = *it;
    }
    decoder_ = register_module("decoder", decoder);
    output_ = register_module("output", torch::nn::Linear(width, in));

    set_likelihood(ctx.options, shape_);
    he_init_linear_layers(*this);
  }

  std::int64_t latent_dim() const override { return latent_; }

  DiagGaussian encode(const torch::Tensor& x) override {
    check_data_batch(x, shape_, path_);
    auto h = x.flatten(1);  // [B, d]
    if (!encoder_->is_empty()) h = encoder_->forward(h);
    return {mu_->forward(h), logvar_bounds_(logvar_->forward(h))};
  }

  // Linear layers act on the last dimension, so any leading dimensions pass straight through.
  torch::Tensor decode(const torch::Tensor& z) override {
    check_latent_batch(z, latent_, path_);
    auto h = z;
    if (!decoder_->is_empty()) h = decoder_->forward(h);
    return output_->forward(h).reshape(decoded_shape(z, shape_));  // [..., *S]
  }


 private:
  std::int64_t latent_;
  std::vector<std::int64_t> shape_;
  std::string path_;
  LogvarBounds logvar_bounds_;
  torch::nn::Sequential encoder_{nullptr}, decoder_{nullptr};
  torch::nn::Linear mu_{nullptr}, logvar_{nullptr}, output_{nullptr};
};

}  // namespace

PRIORLAB_PLUGIN(Network, gated_mlp, GatedMlpNetwork, "1.0.0",
                "gated fully connected encoder/decoder of the VampPrior code (MNIST family), Bernoulli by default")
