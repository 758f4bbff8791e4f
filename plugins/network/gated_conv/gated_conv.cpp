// Network "gated_conv": the gated convolutional encoder q(z|x) and decoder p(x|z) of the
// paper's MNIST-family experiments (Table 3), which take the architecture of the VampPrior code
// (Tomczak & Welling 2018, models/convHVAE_2level.py, its top stochastic layer):
//   encoder: five GatedConv2d (k7 s1 p3, k3 s2 p1, k5 s1 p2, k3 s2 p1, k3 s1 p1), flatten,
//            Linear -> mu, Hardtanh(Linear) -> logvar;
//   decoder: GatedDense z -> 300 -> C*H*W, reshape to [C, H, W], GatedConv2d 3x3 at full
//            resolution (4 x 64 channels), 1x1 Conv2d to the likelihood's parameters.
#include <priorlab/sdk.hpp>

#include "../layers.hpp"

namespace {

using namespace priorlab;
using namespace priorlab::plugins;

// (kernel, stride, padding) of the five encoder layers; two stride-2 layers give H/4 x W/4
// (rounded up) for 28 x 28 -> 7 x 7.
struct ConvGeometry {
  std::int64_t kernel, stride, padding;
};
constexpr ConvGeometry kEncoderGeometry[] = {{7, 1, 3}, {3, 2, 1}, {5, 1, 2}, {3, 2, 1}, {3, 1, 1}};
constexpr std::size_t kEncoderLayers = sizeof(kEncoderGeometry) / sizeof(kEncoderGeometry[0]);

class GatedConvNetwork : public LikelihoodNetwork {
 public:
  static OptionSet options() {
    OptionSet set;
    declare_latent_options(set);
    set.add(Option::int_list("encoder_channels", {32, 32, 64, 64, 6})
                .min(1)
                .max(1 << 20)  // a 2^20-wide layer is already 4 TiB of weights: wider is a typo, and products overflow
                .help("output channels of the five encoder GatedConv2d layers (k7 s1, k3 s2, k5 s1, k3 s2, k3 s1)"));
    set.add(Option::int_list("decoder_hidden", {300})
                .min(1)
                .max(1 << 20)  // a 2^20-wide layer is already 4 TiB of weights: wider is a typo, and products overflow
                .help("widths of the decoder's GatedDense layers before the one that outputs C*H*W"));
    set.add(Option::int_list("decoder_channels", {64, 64, 64, 64})
                .min(1)
                .max(1 << 20)  // a 2^20-wide layer is already 4 TiB of weights: wider is a typo, and products overflow
                .help("output channels of the decoder's 3x3 GatedConv2d layers at full resolution"));
    declare_likelihood_options(set, "bernoulli");
    return set;
  }

  explicit GatedConvNetwork(const BuildContext& ctx)
      : latent_(ctx.options.integer("latent_dim")),
        shape_(ctx.data.shape),
        path_(ctx.path),
        logvar_bounds_(ctx.options, ctx.path) {
    if (shape_.size() != 3)
      throw Error(ctx.path, "needs image data of shape [C, H, W] (MNIST: [1, 28, 28]), found " + shape_string(shape_));
    const auto channels = ctx.options.int_list("encoder_channels");
    if (channels.size() != kEncoderLayers)
      throw Error(ctx.path + "/options/encoder_channels", "expected " + std::to_string(kEncoderLayers) +
                                                              " widths (one per encoder layer), found " +
                                                              std::to_string(channels.size()));

    // Encoder: [B, C, H, W] -> [B, c5, h, w] -> flatten.
    torch::nn::Sequential encoder;
    std::int64_t in = shape_[0], h = shape_[1], w = shape_[2];
    for (std::size_t i = 0; i < kEncoderLayers; ++i) {
      const auto& g = kEncoderGeometry[i];
      encoder->push_back(GatedConv2d(in, channels[i], g.kernel, g.stride, g.padding));
      in = channels[i];
      h = conv_output_size(h, g.kernel, g.stride, g.padding);
      w = conv_output_size(w, g.kernel, g.stride, g.padding);
    }
    const std::int64_t features = in * h * w;  // 6 * 7 * 7 = 294 for MNIST
    encoder_ = register_module("encoder", encoder);
    mu_ = register_module("mu", torch::nn::Linear(features, latent_));
    logvar_ = register_module("logvar", torch::nn::Linear(features, latent_));

    // Decoder: z -> GatedDense ... -> C*H*W -> [C, H, W] -> GatedConv2d ... -> 1x1 conv.
    torch::nn::Sequential dense;
    std::int64_t width = latent_;
    for (auto hidden : ctx.options.int_list("decoder_hidden")) {
      dense->push_back(GatedDense(width, hidden));
      width = hidden;
    }
    dense->push_back(GatedDense(width, ctx.data.dimension()));
    decoder_dense_ = register_module("decoder_dense", dense);
    torch::nn::Sequential convs;
    in = shape_[0];
    for (auto c : ctx.options.int_list("decoder_channels")) {
      convs->push_back(GatedConv2d(in, c, 3, 1, 1));
      in = c;
    }
    decoder_conv_ = register_module("decoder_conv", convs);
    output_ = register_module("output", torch::nn::Conv2d(torch::nn::Conv2dOptions(in, shape_[0], 1)));

    set_likelihood(ctx.options, shape_);
    he_init_linear_layers(*this);
  }

  std::int64_t latent_dim() const override { return latent_; }

  DiagGaussian encode(const torch::Tensor& x) override {
    check_data_batch(x, shape_, path_);
    const auto h = encoder_->forward(x).flatten(1);  // [B, c5 * h * w]
    return {mu_->forward(h), logvar_bounds_(logvar_->forward(h))};
  }

  // Leading dimensions ([K, B] from the IWAE bound, [S, B] from the likelihood estimator) are
  // flattened into one batch for the convolutions and restored at the end.
  torch::Tensor decode(const torch::Tensor& z) override {
    check_latent_batch(z, latent_, path_);
    auto h = decoder_dense_->forward(z.reshape({-1, latent_}));  // [N, C*H*W]
    h = h.reshape({-1, shape_[0], shape_[1], shape_[2]});        // [N, C, H, W]
    if (!decoder_conv_->is_empty()) h = decoder_conv_->forward(h);
    return output_->forward(h).reshape(decoded_shape(z, shape_));  // [..., C, H, W]
  }


 private:
  std::int64_t latent_;
  std::vector<std::int64_t> shape_;
  std::string path_;
  LogvarBounds logvar_bounds_;
  torch::nn::Sequential encoder_{nullptr}, decoder_dense_{nullptr}, decoder_conv_{nullptr};
  torch::nn::Linear mu_{nullptr}, logvar_{nullptr};
  torch::nn::Conv2d output_{nullptr};
};

}  // namespace

PRIORLAB_PLUGIN(Network, gated_conv, GatedConvNetwork, "1.0.0",
                "gated convolutional encoder/decoder of the VampPrior code (MNIST family), Bernoulli by default")
