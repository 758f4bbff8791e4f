// Network "conv64": convolutional encoder q(z|x) and deconvolutional decoder p(x|z) for the
// paper's 64 x 64 grey images (Faces, Chairs; Table 3). The paper names only "conv encoder,
// deconv decoder"; this is the standard design of VAEs on 64 x 64 images (Higgins et al. 2017,
// DCGAN-style 4x4 stride-2 layers):
//   encoder: Conv2d k4 s2 p1 + ReLU per width in `channels` (64 -> 32 -> 16 -> 8 -> 4), flatten,
//            Linear + ReLU per width in `dense`, Linear -> mu, Hardtanh(Linear) -> logvar;
//   decoder: the mirror: Linear + ReLU per width in `dense` reversed, Linear + ReLU to
//            [c_n, 4, 4], ConvTranspose2d k4 s2 p1 (+ ReLU but the last) back to [C, 64, 64].
// No batch normalisation: the decoder sees K or S samples per example and eval and train must
// agree for the likelihood estimator.
#include <priorlab/sdk.hpp>

#include "../layers.hpp"

namespace {

using namespace priorlab;
using namespace priorlab::plugins;

class Conv64Network : public LikelihoodNetwork {
 public:
  static OptionSet options() {
    OptionSet set;
    declare_latent_options(set);
    set.add(Option::int_list("channels", {32, 32, 64, 64})
                .min(1)
                .max(1 << 20)  // a 2^20-wide layer is already 4 TiB of weights: wider is a typo, and products overflow
                .help("output channels of the encoder's 4x4 stride-2 convolutions, each halving H and W "
                      "(the decoder mirrors them)"));
    set.add(Option::int_list("dense", {256})
                .min(1)
                .max(1 << 20)  // a 2^20-wide layer is already 4 TiB of weights: wider is a typo, and products overflow
                .help("widths of the fully connected layers between the convolutions and mu/logvar (mirrored in "
                      "the decoder); [] maps the features to mu/logvar directly"));
    declare_likelihood_options(set, "bernoulli");
    return set;
  }

  explicit Conv64Network(const BuildContext& ctx)
      : latent_(ctx.options.integer("latent_dim")),
        shape_(ctx.data.shape),
        path_(ctx.path),
        logvar_bounds_(ctx.options, ctx.path) {
    const auto channels = ctx.options.int_list("channels");
    if (channels.empty() || channels.size() > 16)
      throw Error(ctx.path + "/options/channels",
                  "expected 1 to 16 convolutions, found " + std::to_string(channels.size()));
    const std::int64_t factor = std::int64_t{1} << channels.size();  // each layer halves H and W
    if (shape_.size() != 3 || shape_[1] % factor != 0 || shape_[2] % factor != 0)
      throw Error(ctx.path, "needs image data of shape [C, H, W] with H and W divisible by " + std::to_string(factor) +
                                " (" + std::to_string(channels.size()) +
                                " stride-2 layers; the paper's [1, 64, 64]), found " + shape_string(shape_));
    top_ = {channels.back(), shape_[1] / factor, shape_[2] / factor};
    const std::int64_t features = top_[0] * top_[1] * top_[2];  // 64 * 4 * 4 = 1024 by default
    const auto dense = ctx.options.int_list("dense");

    // Encoder.
    torch::nn::Sequential convs;
    std::int64_t in = shape_[0];
    for (auto c : channels) {
      convs->push_back(torch::nn::Conv2d(torch::nn::Conv2dOptions(in, c, 4).stride(2).padding(1)));
      convs->push_back(torch::nn::ReLU());
      in = c;
    }
    encoder_conv_ = register_module("encoder_conv", convs);
    torch::nn::Sequential fc;
    std::int64_t width = features;
    for (auto d : dense) {
      fc->push_back(torch::nn::Linear(width, d));
      fc->push_back(torch::nn::ReLU());
      width = d;
    }
    encoder_dense_ = register_module("encoder_dense", fc);
    mu_ = register_module("mu", torch::nn::Linear(width, latent_));
    logvar_ = register_module("logvar", torch::nn::Linear(width, latent_));

    // Decoder: the mirror image.
    torch::nn::Sequential up_fc;
    width = latent_;
    for (auto it = dense.rbegin(); it != dense.rend(); ++it) {
      up_fc->push_back(torch::nn::Linear(width, *it));
      up_fc->push_back(torch::nn::ReLU());
      width = *it;
    }
    up_fc->push_back(torch::nn::Linear(width, features));
    up_fc->push_back(torch::nn::ReLU());
    decoder_dense_ = register_module("decoder_dense", up_fc);
    torch::nn::Sequential deconvs;
    for (std::size_t i = channels.size(); i-- > 0;) {
      const std::int64_t out = i > 0 ? channels[i - 1] : shape_[0];
      deconvs->push_back(
          torch::nn::ConvTranspose2d(torch::nn::ConvTranspose2dOptions(channels[i], out, 4).stride(2).padding(1)));
      if (i > 0) deconvs->push_back(torch::nn::ReLU());  // the last layer outputs the likelihood's parameters
    }
    decoder_conv_ = register_module("decoder_conv", deconvs);

    set_likelihood(ctx.options, shape_);
  }

  std::int64_t latent_dim() const override { return latent_; }

  DiagGaussian encode(const torch::Tensor& x) override {
    check_data_batch(x, shape_, path_);
    auto h = encoder_conv_->forward(x).flatten(1);  // [B, c_n * H/2^n * W/2^n]
    if (!encoder_dense_->is_empty()) h = encoder_dense_->forward(h);
    return {mu_->forward(h), logvar_bounds_(logvar_->forward(h))};
  }

  // Leading dimensions ([K, B], [S, B]) are flattened into one batch for the deconvolutions.
  torch::Tensor decode(const torch::Tensor& z) override {
    check_latent_batch(z, latent_, path_);
    auto h = decoder_dense_->forward(z.reshape({-1, latent_}));  // [N, c_n * h * w]
    h = decoder_conv_->forward(h.reshape({-1, top_[0], top_[1], top_[2]}));
    return h.reshape(decoded_shape(z, shape_));  // [..., C, H, W]
  }


 private:
  std::int64_t latent_;
  std::vector<std::int64_t> shape_;
  std::vector<std::int64_t> top_;  // [c_n, h, w] at the bottleneck of the convolutions
  std::string path_;
  LogvarBounds logvar_bounds_;
  torch::nn::Sequential encoder_conv_{nullptr}, encoder_dense_{nullptr}, decoder_dense_{nullptr},
      decoder_conv_{nullptr};
  torch::nn::Linear mu_{nullptr}, logvar_{nullptr};
};

}  // namespace

PRIORLAB_PLUGIN(
    Network, conv64, Conv64Network, "1.0.0",
    "convolutional encoder / deconvolutional decoder for 64x64 images (Faces, Chairs), Bernoulli by default")
