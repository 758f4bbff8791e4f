// Network "gated_conv" against the VampPrior architecture written out with functional
// convolutions, a GatedConv2d layer against hand computations, and its parameter count against
// the layer arithmetic.
#include <cmath>
#include <map>
#include <string>

#include <gtest/gtest.h>

#include "../layers.hpp"
#include "test_util.hpp"

namespace {

using priorlab::BuildContext;
using priorlab::Error;
using priorlab::Network;
using priorlab::test::json;

std::shared_ptr<Network> make_net(const json& options = json::object(), std::vector<std::int64_t> shape = {1, 28, 28}) {
  BuildContext ctx;
  ctx.data.shape = std::move(shape);
  return priorlab::test::make<Network>("gated_conv", options, ctx);
}

using priorlab::test::error_place;
std::map<std::string, torch::Tensor> params(Network& net) { return priorlab::test::named_params(net); }
std::int64_t count(Network& net) { return priorlab::test::parameter_count(net); }

/// h * sigmoid(g) of the GatedConv2d `prefix` written with two functional convolutions.
torch::Tensor gated(const std::map<std::string, torch::Tensor>& p, const std::string& prefix, const torch::Tensor& x,
                    std::int64_t stride, std::int64_t padding) {
  const auto h = torch::conv2d(x, p.at(prefix + ".h.weight"), p.at(prefix + ".h.bias"), stride, padding);
  const auto g = torch::conv2d(x, p.at(prefix + ".g.weight"), p.at(prefix + ".g.bias"), stride, padding);
  return h * torch::sigmoid(g);
}

torch::Tensor gated_dense(const std::map<std::string, torch::Tensor>& p, const std::string& prefix,
                          const torch::Tensor& x) {
  return torch::linear(x, p.at(prefix + ".h.weight"), p.at(prefix + ".h.bias")) *
         torch::sigmoid(torch::linear(x, p.at(prefix + ".g.weight"), p.at(prefix + ".g.bias")));
}

}  // namespace

TEST(GatedConv, GatedConvLayerOnKnownValues) {
  // One channel, 3x3 kernel, stride 1, padding 1 on x = [[1, 2], [3, 4]].
  // conv_h: centre tap 1, right-hand tap 2 (cross-correlation: h(i,j) = x(i,j) + 2 x(i,j+1)),
  //   bias 0: h = [[1 + 4, 2 + 0], [3 + 8, 4 + 0]] = [[5, 2], [11, 4]].
  // conv_g: zero weights, bias log 3: sigmoid(log 3) = 3 / 4 everywhere.
  // out = h * 3/4 = [[3.75, 1.5], [8.25, 3]].
  priorlab::GatedConv2d layer(1, 1, 3, 1, 1);
  {
    torch::NoGradGuard no_grad;
    layer->h->weight.zero_();
    layer->h->weight[0][0][1][1] = 1.0;
    layer->h->weight[0][0][1][2] = 2.0;
    layer->h->bias.zero_();
    layer->g->weight.zero_();
    layer->g->bias.fill_(std::log(3.0));
  }
  const auto x = torch::tensor({1.0f, 2.0f, 3.0f, 4.0f}).reshape({1, 1, 2, 2});
  const auto out = layer->forward(x);
  const auto want = torch::tensor({3.75f, 1.5f, 8.25f, 3.0f}).reshape({1, 1, 2, 2});
  EXPECT_TRUE(torch::allclose(out, want, 1e-6, 1e-6)) << out;
}

TEST(GatedConv, GatedConvLayerMatchesTheSumWrittenOut) {
  // 2 -> 3 channels, 3x3, stride 2, padding 1 on 5x5 (output 3x3), in double:
  //   out[o,i,j] = (b_h[o] + sum_{c,u,v} W_h[o,c,u,v] x[c, 2i+u-1, 2j+v-1])
  //              * sigmoid(b_g[o] + sum_{c,u,v} W_g[o,c,u,v] x[c, 2i+u-1, 2j+v-1]),
  // with x = 0 outside the image.
  torch::manual_seed(1);
  priorlab::GatedConv2d layer(2, 3, 3, 2, 1);
  layer->to(torch::kDouble);
  const auto x = torch::randn({1, 2, 5, 5}, torch::kDouble);
  const auto out = layer->forward(x);
  ASSERT_EQ(out.sizes(), (std::vector<std::int64_t>{1, 3, 3, 3}));
  const auto wh = layer->h->weight.accessor<double, 4>();
  const auto wg = layer->g->weight.accessor<double, 4>();
  const auto bh = layer->h->bias.accessor<double, 1>();
  const auto bg = layer->g->bias.accessor<double, 1>();
  const auto xa = x.accessor<double, 4>();
  for (int o = 0; o < 3; ++o)
    for (int i = 0; i < 3; ++i)
      for (int j = 0; j < 3; ++j) {
        double h = bh[o], g = bg[o];
        for (int c = 0; c < 2; ++c)
          for (int u = 0; u < 3; ++u)
            for (int v = 0; v < 3; ++v) {
              const int r = 2 * i + u - 1, s = 2 * j + v - 1;
              if (r < 0 || r >= 5 || s < 0 || s >= 5) continue;
              h += wh[o][c][u][v] * xa[0][c][r][s];
              g += wg[o][c][u][v] * xa[0][c][r][s];
            }
        EXPECT_NEAR(out[0][o][i][j].item<double>(), h / (1 + std::exp(-g)), 1e-12);
      }
}

TEST(GatedConv, EncodeAndDecodeHaveTheContractShapes) {
  torch::manual_seed(2);
  auto net = make_net();
  EXPECT_EQ(net->latent_dim(), 32);
  torch::NoGradGuard no_grad;
  const auto x = torch::rand({3, 1, 28, 28}).bernoulli();
  const auto q = net->encode(x);
  EXPECT_EQ(q.mu.sizes(), (std::vector<std::int64_t>{3, 32}));
  EXPECT_EQ(q.logvar.sizes(), (std::vector<std::int64_t>{3, 32}));

  const auto z = torch::randn({2, 3, 32});  // [K, B, D] as the IWAE bound passes it
  const auto out = net->decode(z);
  ASSERT_EQ(out.sizes(), (std::vector<std::int64_t>{2, 3, 1, 28, 28}));
  for (int k = 0; k < 2; ++k) EXPECT_TRUE(torch::allclose(out[k], net->decode(z[k]), 1e-5, 1e-5)) << "sample " << k;
  // No leading dimension, and two of them before the batch.
  EXPECT_TRUE(torch::allclose(net->decode(z[1][2]), out[1][2], 1e-5, 1e-5));
  const auto deep = net->decode(z.reshape({2, 1, 3, 32}).expand({2, 2, 3, 32}));
  ASSERT_EQ(deep.sizes(), (std::vector<std::int64_t>{2, 2, 3, 1, 28, 28}));
  EXPECT_TRUE(torch::allclose(deep[1][1], out[1], 1e-5, 1e-5));
  EXPECT_EQ(net->mean(out).sizes(), out.sizes());
}

TEST(GatedConv, ForwardIsTheVampPriorArchitectureWrittenOut) {
  // Encoder (k, s, p): (7, 1, 3), (3, 2, 1), (5, 1, 2), (3, 2, 1), (3, 1, 1); 28 -> 14 -> 7.
  torch::manual_seed(3);
  auto net = make_net();
  auto p = params(*net);
  torch::NoGradGuard no_grad;
  const int geometry[5][3] = {{7, 1, 3}, {3, 2, 1}, {5, 1, 2}, {3, 2, 1}, {3, 1, 1}};
  const auto x = torch::rand({2, 1, 28, 28});
  auto h = x;
  for (int i = 0; i < 5; ++i) {
    const auto layer = "encoder." + std::to_string(i);
    EXPECT_EQ(p.at(layer + ".h.weight").size(2), geometry[i][0]);
    h = gated(p, layer, h, geometry[i][1], geometry[i][2]);
  }
  ASSERT_EQ(h.sizes(), (std::vector<std::int64_t>{2, 6, 7, 7}));
  h = h.flatten(1);  // [2, 294]
  const auto q = net->encode(x);
  EXPECT_TRUE(torch::allclose(q.mu, torch::linear(h, p.at("mu.weight"), p.at("mu.bias")), 1e-5, 1e-5));
  const auto logvar = torch::linear(h, p.at("logvar.weight"), p.at("logvar.bias")).clamp(-6, 2);
  EXPECT_TRUE(torch::allclose(q.logvar, logvar, 1e-5, 1e-5));

  // Decoder: GatedDense 32 -> 300 -> 784, [1, 28, 28], four 3x3 GatedConv2d (64), 1x1 Conv2d.
  const auto z = torch::randn({2, 32});
  auto d = gated_dense(p, "decoder_dense.1", gated_dense(p, "decoder_dense.0", z)).reshape({2, 1, 28, 28});
  for (int i = 0; i < 4; ++i) d = gated(p, "decoder_conv." + std::to_string(i), d, 1, 1);
  d = torch::conv2d(d, p.at("output.weight"), p.at("output.bias"));
  EXPECT_TRUE(torch::allclose(net->decode(z), d, 1e-5, 1e-5));
}

TEST(GatedConv, LogvarIsClampedToItsBounds) {
  auto net = make_net({{"logvar_min", -3.0}, {"logvar_max", 1.5}});
  auto p = params(*net);
  torch::NoGradGuard no_grad;
  const auto x = torch::rand({2, 1, 28, 28});
  p.at("logvar.bias").fill_(1e3);
  EXPECT_TRUE(torch::all(net->encode(x).logvar == 1.5).item<bool>());
  p.at("logvar.bias").fill_(-1e3);
  EXPECT_TRUE(torch::all(net->encode(x).logvar == -3.0).item<bool>());
}

TEST(GatedConv, ParameterCountMatchesTheLayerArithmetic) {
  // A GatedConv2d(in, out, k) holds 2 (in out k^2 + out), a GatedDense(in, out) 2 (in out + out).
  // Small: data [2, 8, 8], D = 3, encoder_channels [2, 3, 4, 5, 1], decoder_hidden [7],
  // decoder_channels [4, 6]:
  //   encoder 2(2*2*49+2) + 2(2*3*9+3) + 2(3*4*25+4) + 2(4*5*9+5) + 2(5*1*9+1)
  //         = 396 + 114 + 608 + 370 + 92 = 1580; 8 -> 4 -> 2, features 1*2*2 = 4;
  //   mu, logvar 2 (4*3 + 3) = 30;
  //   decoder 2(3*7+7) + 2(7*128+128) + 2(2*4*9+4) + 2(4*6*9+6) + (6*2+2)
  //         = 56 + 2048 + 152 + 444 + 14 = 2714.                      total 4324.
  auto small = make_net(
      {{"latent_dim", 3}, {"encoder_channels", {2, 3, 4, 5, 1}}, {"decoder_hidden", {7}}, {"decoder_channels", {4, 6}}},
      {2, 8, 8});
  EXPECT_EQ(count(*small), 4324);
  // Default on [1, 28, 28]: encoder 3200 + 18496 + 102528 + 73856 + 6924 = 205004, mu and logvar
  // 2 (294*32 + 32) = 18880; decoder 2(32*300+300) + 2(300*784+784) + 2(1*64*9+64)
  // + 3 * 2(64*64*9+64) + (64+1) = 19800 + 471968 + 1280 + 221568 + 65 = 714681.   total 938565.
  EXPECT_EQ(count(*make_net()), 938565);
}

TEST(GatedConv, AnyImageSizeGivesTheConvolutionArithmeticsFeatures) {
  // [1, 7, 9]: heights 7 -> 7 -> 4 -> 4 -> 2 -> 2, widths 9 -> 9 -> 5 -> 5 -> 3 -> 3; 6 * 2 * 3 = 36.
  auto net = make_net({{"latent_dim", 4}}, {1, 7, 9});
  EXPECT_EQ(params(*net).at("mu.weight").sizes(), (std::vector<std::int64_t>{4, 36}));
  torch::NoGradGuard no_grad;
  EXPECT_EQ(net->encode(torch::rand({2, 1, 7, 9})).mu.sizes(), (std::vector<std::int64_t>{2, 4}));
  EXPECT_EQ(net->decode(torch::randn({5, 2, 4})).sizes(), (std::vector<std::int64_t>{5, 2, 1, 7, 9}));
}

TEST(GatedConv, GradientsReachEveryParameter) {
  // Gaussian with a learned sigma, so the likelihood's parameter is among them.
  torch::manual_seed(4);
  auto net = make_net({{"likelihood", "gaussian"}, {"learn_sigma", true}, {"decoder_channels", {8, 8}}});
  const auto x = torch::rand({4, 1, 28, 28});
  const auto q = net->encode(x);
  const auto z = priorlab::sample_diag_gaussian(q, 2);  // [2, 4, D]
  const auto loss = -net->log_likelihood(x, net->decode(z)).sum() + priorlab::kl_to_standard_normal(q).sum();
  loss.backward();
  const auto p = params(*net);
  EXPECT_TRUE(p.count("likelihood.log_sigma"));
  for (const auto& [name, t] : p) {
    ASSERT_TRUE(t.grad().defined()) << name;
    EXPECT_GT(t.grad().abs().sum().item<double>(), 0.0) << name;
  }
}

TEST(GatedConv, LogLikelihoodIsTheBernoulliOfTheDecoderLogits) {
  torch::manual_seed(5);
  auto net = make_net();
  torch::NoGradGuard no_grad;
  const auto x = torch::rand({3, 1, 28, 28}).bernoulli();
  const auto logits = net->decode(torch::randn({2, 3, 32}));  // [K, B, 1, 28, 28]
  const auto ll = net->log_likelihood(x, logits);
  ASSERT_EQ(ll.sizes(), (std::vector<std::int64_t>{2, 3}));
  EXPECT_TRUE(torch::allclose(ll, priorlab::bernoulli_log_likelihood(x, logits, 3), 1e-5, 1e-4));
  // log Bernoulli(x; sigmoid(l)) = x log sigmoid(l) + (1 - x) log(1 - sigmoid(l)), in double.
  const auto l = logits.to(torch::kDouble);
  const auto xd = x.to(torch::kDouble);
  const auto s = torch::sigmoid(l);
  const auto by_hand = (xd * torch::log(s) + (1 - xd) * torch::log(1 - s)).sum({-3, -2, -1});
  EXPECT_TRUE(torch::allclose(ll.to(torch::kDouble), by_hand, 1e-6, 1e-3));
  EXPECT_TRUE(torch::allclose(net->mean(logits), torch::sigmoid(logits)));
}

TEST(GatedConv, DeclaresTheSdkLikelihoodOptionsWithBernoulliAsDefault) {
  const auto& entry = priorlab::test::registry().find("gated_conv", "network", "/test");
  const auto sdk = priorlab::Likelihood::options();
  for (const auto& o : sdk.items()) {
    const auto* mine = entry.options.find(o.name());
    ASSERT_TRUE(mine) << o.name();
    auto want = o.to_json();
    if (o.name() == "likelihood") want["default"] = "bernoulli";
    EXPECT_EQ(mine->to_json(), want) << o.name();
  }
  EXPECT_EQ(entry.options.find("latent_dim")->default_value(), 32);
}

TEST(GatedConv, BadShapesAndOptionsAreLocatedErrors) {
  EXPECT_EQ(error_place([] { make_net(json::object(), {784}); }), "plugin 'gated_conv': /test");
  EXPECT_EQ(error_place([] { make_net(json::object(), {28, 28}); }), "plugin 'gated_conv': /test");
  EXPECT_EQ(error_place([] {
              make_net({{"encoder_channels", {32, 32}}});
            }),
            "plugin 'gated_conv': /test/options/encoder_channels");
  EXPECT_EQ(error_place([] {
              make_net({{"logvar_min", 2.0}, {"logvar_max", 2.0}});
            }),
            "plugin 'gated_conv': /test/options/logvar_min");
  auto net = make_net();
  torch::NoGradGuard no_grad;
  EXPECT_EQ(error_place([&] { net->encode(torch::rand({2, 784})); }), "/test");
  EXPECT_EQ(error_place([&] { net->encode(torch::rand({2, 1, 28, 27})); }), "/test");
  EXPECT_EQ(error_place([&] { net->decode(torch::randn({2, 31})); }), "/test");
  try {
    net->encode(torch::rand({2, 784}));
  } catch (const Error& e) {
    EXPECT_EQ(e.message(), "encode expects x of shape [B, 1, 28, 28], found [2, 784]");
  }
}

// A width beyond 2^20 is refused at its option, before any layer is sized.
TEST(GatedConv, WidthsBeyondTwoToTheTwentyAreRefusedAtTheirOption) {
  EXPECT_EQ(priorlab::test::error_place([] { make_net({{"encoder_channels", {32, 32, 64, 64, 2097152}}}); }),
            "/test/options/encoder_channels/4");
  EXPECT_EQ(priorlab::test::error_place([] { make_net({{"decoder_hidden", {1000000000000}}}); }),
            "/test/options/decoder_hidden/0");
  EXPECT_EQ(priorlab::test::error_place([] { make_net({{"decoder_channels", {64, 2097152}}}); }),
            "/test/options/decoder_channels/1");
}
