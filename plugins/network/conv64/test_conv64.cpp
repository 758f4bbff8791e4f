// Network "conv64" against the architecture written out with functional (transposed)
// convolutions, and its parameter count against the layer arithmetic.
#include <map>
#include <string>

#include <gtest/gtest.h>

#include "test_util.hpp"

namespace {

using priorlab::BuildContext;
using priorlab::Error;
using priorlab::Network;
using priorlab::test::json;

std::shared_ptr<Network> make_net(const json& options = json::object(), std::vector<std::int64_t> shape = {1, 64, 64}) {
  BuildContext ctx;
  ctx.data.shape = std::move(shape);
  return priorlab::test::make<Network>("conv64", options, ctx);
}

using priorlab::test::error_place;
std::map<std::string, torch::Tensor> params(Network& net) { return priorlab::test::named_params(net); }
std::int64_t count(Network& net) { return priorlab::test::parameter_count(net); }

}  // namespace

TEST(Conv64, EncodeAndDecodeHaveTheContractShapes) {
  torch::manual_seed(1);
  auto net = make_net();
  EXPECT_EQ(net->latent_dim(), 32);
  torch::NoGradGuard no_grad;
  const auto q = net->encode(torch::rand({3, 1, 64, 64}));
  EXPECT_EQ(q.mu.sizes(), (std::vector<std::int64_t>{3, 32}));
  EXPECT_EQ(q.logvar.sizes(), (std::vector<std::int64_t>{3, 32}));
  const auto z = torch::randn({2, 3, 32});  // [K, B, D]
  const auto out = net->decode(z);
  ASSERT_EQ(out.sizes(), (std::vector<std::int64_t>{2, 3, 1, 64, 64}));
  for (int k = 0; k < 2; ++k) EXPECT_TRUE(torch::allclose(out[k], net->decode(z[k]), 1e-5, 1e-5)) << "sample " << k;
  EXPECT_TRUE(torch::allclose(net->decode(z[0][1]), out[0][1], 1e-5, 1e-5));

  // C channels and another size divisible by 2^(layers): [3, 32, 24] with two layers -> [16, 8, 6].
  auto colour = make_net({{"latent_dim", 5}, {"channels", {8, 16}}, {"dense", json::array()}}, {3, 32, 24});
  EXPECT_EQ(params(*colour).at("mu.weight").sizes(), (std::vector<std::int64_t>{5, 16 * 8 * 6}));
  EXPECT_EQ(colour->encode(torch::rand({2, 3, 32, 24})).mu.sizes(), (std::vector<std::int64_t>{2, 5}));
  EXPECT_EQ(colour->decode(torch::randn({4, 2, 5})).sizes(), (std::vector<std::int64_t>{4, 2, 3, 32, 24}));
}

TEST(Conv64, ForwardIsTheArchitectureWrittenOut) {
  // Encoder: relu(conv k4 s2 p1) x 4 (64 -> 32 -> 16 -> 8 -> 4), flatten 64*4*4, relu(Linear 256),
  // Linear -> mu, clamp(Linear, -6, 2) -> logvar. Decoder: relu(Linear 256), relu(Linear 1024),
  // [64, 4, 4], relu(deconv k4 s2 p1) x 3, deconv -> [1, 64, 64] logits.
  torch::manual_seed(2);
  auto net = make_net();
  auto p = params(*net);
  torch::NoGradGuard no_grad;
  const auto x = torch::rand({2, 1, 64, 64});
  auto h = x;
  for (int i = 0; i < 4; ++i) {
    const auto key = "encoder_conv." + std::to_string(2 * i);  // ReLUs sit between
    h = torch::relu(torch::conv2d(h, p.at(key + ".weight"), p.at(key + ".bias"), 2, 1));
  }
  ASSERT_EQ(h.sizes(), (std::vector<std::int64_t>{2, 64, 4, 4}));
  h = torch::relu(torch::linear(h.flatten(1), p.at("encoder_dense.0.weight"), p.at("encoder_dense.0.bias")));
  const auto q = net->encode(x);
  EXPECT_TRUE(torch::allclose(q.mu, torch::linear(h, p.at("mu.weight"), p.at("mu.bias")), 1e-5, 1e-5));
  EXPECT_TRUE(
      torch::allclose(q.logvar, torch::linear(h, p.at("logvar.weight"), p.at("logvar.bias")).clamp(-6, 2), 1e-5, 1e-5));

  const auto z = torch::randn({2, 32});
  auto d = torch::relu(torch::linear(z, p.at("decoder_dense.0.weight"), p.at("decoder_dense.0.bias")));
  d = torch::relu(torch::linear(d, p.at("decoder_dense.2.weight"), p.at("decoder_dense.2.bias")));
  d = d.reshape({2, 64, 4, 4});
  for (int i = 0; i < 4; ++i) {
    const auto key = "decoder_conv." + std::to_string(2 * i);
    d = torch::conv_transpose2d(d, p.at(key + ".weight"), p.at(key + ".bias"), 2, 1);
    if (i < 3) d = torch::relu(d);
  }
  ASSERT_EQ(d.sizes(), (std::vector<std::int64_t>{2, 1, 64, 64}));
  EXPECT_TRUE(torch::allclose(net->decode(z), d, 1e-5, 1e-5));
}

TEST(Conv64, ParameterCountMatchesTheLayerArithmetic) {
  // Conv2d / ConvTranspose2d(in, out, 4): in out 16 + out; Linear(in, out): in out + out.
  // Data [2, 8, 8], channels [3, 5] (8 -> 4 -> 2, features 5*2*2 = 20), dense [6], D = 2:
  //   encoder (2*3*16+3) + (3*5*16+5) + (20*6+6) + 2 (6*2+2) = 99 + 245 + 126 + 28 = 498;
  //   decoder (2*6+6) + (6*20+20) + (5*3*16+3) + (3*2*16+2) = 18 + 140 + 243 + 98 = 499.  total 997.
  EXPECT_EQ(count(*make_net({{"latent_dim", 2}, {"channels", {3, 5}}, {"dense", {6}}}, {2, 8, 8})), 997);
  // Default on [1, 64, 64]: encoder 544 + 16416 + 32832 + 65600 + (1024*256+256) + 2 (256*32+32)
  // = 394240; decoder (32*256+256) + (256*1024+1024) + 65600 + 32800 + 16416 + 513 = 386945.
  // total 781185.
  EXPECT_EQ(count(*make_net()), 781185);
}

TEST(Conv64, GradientsReachEveryParameter) {
  // Narrow layers keep it fast; every kind of parameter is still there.
  torch::manual_seed(3);
  auto net = make_net({{"likelihood", "gaussian"}, {"learn_sigma", true}, {"channels", {4, 4, 8, 8}}, {"dense", {16}}});
  const auto x = torch::rand({4, 1, 64, 64});
  const auto q = net->encode(x);
  const auto z = priorlab::sample_diag_gaussian(q, 2);
  const auto loss = -net->log_likelihood(x, net->decode(z)).sum() + priorlab::kl_to_standard_normal(q).sum();
  loss.backward();
  const auto p = params(*net);
  EXPECT_TRUE(p.count("likelihood.log_sigma"));
  for (const auto& [name, t] : p) {
    ASSERT_TRUE(t.grad().defined()) << name;
    EXPECT_GT(t.grad().abs().sum().item<double>(), 0.0) << name;
  }
}

TEST(Conv64, LogLikelihoodIsTheBernoulliOfTheDecoderLogits) {
  torch::manual_seed(4);
  auto net = make_net();
  torch::NoGradGuard no_grad;
  const auto x = torch::rand({3, 1, 64, 64}).bernoulli();
  const auto logits = net->decode(torch::randn({2, 3, 32}));
  const auto ll = net->log_likelihood(x, logits);
  ASSERT_EQ(ll.sizes(), (std::vector<std::int64_t>{2, 3}));
  EXPECT_TRUE(torch::allclose(ll, priorlab::bernoulli_log_likelihood(x, logits, 3), 1e-5, 1e-4));
  const auto s = torch::sigmoid(logits.to(torch::kDouble));
  const auto xd = x.to(torch::kDouble);
  EXPECT_TRUE(
      torch::allclose(ll.to(torch::kDouble), (xd * s.log() + (1 - xd) * (1 - s).log()).sum({-3, -2, -1}), 1e-6, 1e-3));
  EXPECT_TRUE(torch::allclose(net->mean(logits), torch::sigmoid(logits)));
}

TEST(Conv64, BadShapesAndOptionsAreLocatedErrors) {
  // 28 is not divisible by 2^4.
  EXPECT_EQ(error_place([] { make_net(json::object(), {1, 28, 28}); }), "plugin 'conv64': /test");
  EXPECT_EQ(error_place([] { make_net(json::object(), {4096}); }), "plugin 'conv64': /test");
  EXPECT_EQ(error_place([] { make_net({{"channels", json::array()}}); }), "plugin 'conv64': /test/options/channels");
  auto net = make_net();
  torch::NoGradGuard no_grad;
  EXPECT_EQ(error_place([&] { net->encode(torch::rand({2, 1, 32, 32})); }), "/test");
  EXPECT_EQ(error_place([&] { net->decode(torch::randn({2, 2})); }), "/test");
}

// A width beyond 2^20 is refused at its option, before any layer is sized (1e12 channels would
// overflow the weight count and ask the allocator for petabytes).
TEST(Conv64, WidthsBeyondTwoToTheTwentyAreRefusedAtTheirOption) {
  EXPECT_EQ(priorlab::test::error_place([] { make_net({{"channels", {32, 32, 64, 2097152}}}); }), "/test/options/channels/3");
  EXPECT_EQ(priorlab::test::error_place([] { make_net({{"dense", {1000000000000}}}); }), "/test/options/dense/0");
}
