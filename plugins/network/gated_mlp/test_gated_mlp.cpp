// Network "gated_mlp" against GatedDense layers computed by hand, its parameter count against
// the layer arithmetic, and a few examples it must learn to reconstruct.
#include <cmath>
#include <iostream>
#include <map>
#include <string>

#include <gtest/gtest.h>

#include "test_util.hpp"

namespace {

using priorlab::BuildContext;
using priorlab::Error;
using priorlab::Network;
using priorlab::test::json;

std::shared_ptr<Network> make_net(const json& options = json::object(), std::vector<std::int64_t> shape = {1, 28, 28}) {
  BuildContext ctx;
  ctx.data.shape = std::move(shape);
  return priorlab::test::make<Network>("gated_mlp", options, ctx);
}

using priorlab::test::error_place;
std::map<std::string, torch::Tensor> params(Network& net) { return priorlab::test::named_params(net); }
std::int64_t count(Network& net) { return priorlab::test::parameter_count(net); }

double sigmoid(double t) { return 1.0 / (1.0 + std::exp(-t)); }

void set(torch::Tensor t, std::vector<float> values) {
  torch::NoGradGuard no_grad;
  t.copy_(torch::tensor(values).reshape(t.sizes()));
}

}  // namespace

TEST(GatedMlp, GatedDenseLayersGiveTheValuesComputedByHand) {
  // Data of 2 values, D = 1, hidden [1].
  auto net = make_net({{"latent_dim", 1}, {"hidden", {1}}, {"logvar_min", -6.0}, {"logvar_max", 2.0}}, {2});
  auto p = params(*net);
  // Encoder: h = (0.5 x1 - x2 + 0.25) * sigmoid(x1 + x2 - 3); mu = 2 h + 1; logvar = clamp(4 h + 0.5).
  set(p.at("encoder.0.h.weight"), {0.5, -1});
  set(p.at("encoder.0.h.bias"), {0.25});
  set(p.at("encoder.0.g.weight"), {1, 1});
  set(p.at("encoder.0.g.bias"), {-3});
  set(p.at("mu.weight"), {2});
  set(p.at("mu.bias"), {1});
  set(p.at("logvar.weight"), {4});
  set(p.at("logvar.bias"), {0.5});
  // Decoder: h = (3 z - 1) * sigmoid(-z + 0.5); params = (h, -2 h + 0.5).
  set(p.at("decoder.0.h.weight"), {3});
  set(p.at("decoder.0.h.bias"), {-1});
  set(p.at("decoder.0.g.weight"), {-1});
  set(p.at("decoder.0.g.bias"), {0.5});
  set(p.at("output.weight"), {1, -2});
  set(p.at("output.bias"), {0, 0.5});
  torch::NoGradGuard no_grad;

  // x = (1, 2): h = -1.25 * sigmoid(0) = -0.625, mu = -0.25, logvar = -2.
  // x = (20, 0): h = 10.25 * sigmoid(17), logvar = 4 h + 0.5 ~ 41.5, clamped to 2.
  const auto q = net->encode(torch::tensor({1.0f, 2.0f, 20.0f, 0.0f}).reshape({2, 2}));
  const double h2 = 10.25 * sigmoid(17);
  EXPECT_NEAR(q.mu[0][0].item<double>(), -0.25, 1e-6);
  EXPECT_NEAR(q.logvar[0][0].item<double>(), -2.0, 1e-6);
  EXPECT_NEAR(q.mu[1][0].item<double>(), 2 * h2 + 1, 1e-5);
  EXPECT_EQ(q.logvar[1][0].item<double>(), 2.0);

  // z = 1: h = 2 * sigmoid(-0.5); z = -1: h = -4 * sigmoid(1.5).
  const auto out = net->decode(torch::tensor({1.0f, -1.0f}).reshape({2, 1}));
  ASSERT_EQ(out.sizes(), (std::vector<std::int64_t>{2, 2}));
  const double a = 2 * sigmoid(-0.5), b = -4 * sigmoid(1.5);
  EXPECT_NEAR(out[0][0].item<double>(), a, 1e-6);
  EXPECT_NEAR(out[0][1].item<double>(), -2 * a + 0.5, 1e-6);
  EXPECT_NEAR(out[1][0].item<double>(), b, 1e-6);
  EXPECT_NEAR(out[1][1].item<double>(), -2 * b + 0.5, 1e-6);
}

TEST(GatedMlp, EncodeAndDecodeHaveTheContractShapes) {
  torch::manual_seed(1);
  auto net = make_net();
  EXPECT_EQ(net->latent_dim(), 32);
  torch::NoGradGuard no_grad;
  const auto q = net->encode(torch::rand({5, 1, 28, 28}));
  EXPECT_EQ(q.mu.sizes(), (std::vector<std::int64_t>{5, 32}));
  EXPECT_EQ(q.logvar.sizes(), (std::vector<std::int64_t>{5, 32}));
  const auto z = torch::randn({3, 5, 32});  // [S, B, D] as the likelihood estimator passes it
  const auto out = net->decode(z);
  ASSERT_EQ(out.sizes(), (std::vector<std::int64_t>{3, 5, 1, 28, 28}));
  for (int s = 0; s < 3; ++s) EXPECT_TRUE(torch::allclose(out[s], net->decode(z[s]), 1e-5, 1e-5)) << "sample " << s;
  EXPECT_TRUE(torch::allclose(net->decode(z[2][4]), out[2][4], 1e-5, 1e-5));

  // Any data shape: flat feature vectors.
  auto flat = make_net({{"latent_dim", 2}}, {50});
  EXPECT_EQ(flat->encode(torch::rand({4, 50})).mu.sizes(), (std::vector<std::int64_t>{4, 2}));
  EXPECT_EQ(flat->decode(torch::randn({7, 4, 2})).sizes(), (std::vector<std::int64_t>{7, 4, 50}));
}

TEST(GatedMlp, ParameterCountMatchesTheLayerArithmetic) {
  // GatedDense(in, out): 2 (in out + out); Linear(in, out): in out + out.
  // Data [3, 4] (d = 12), D = 2, hidden [5, 6]:
  //   encoder 2(12*5+5) + 2(5*6+6) = 130 + 72 = 202; mu, logvar 2 (6*2+2) = 28;
  //   decoder 2(2*6+6) + 2(6*5+5) + (5*12+12) = 36 + 70 + 72 = 178.        total 408.
  EXPECT_EQ(count(*make_net({{"latent_dim", 2}, {"hidden", {5, 6}}}, {3, 4})), 408);
  // hidden [] is linear: mu, logvar 2 (12*2+2) = 52, decoder 2*12+12 = 36.  total 88.
  EXPECT_EQ(count(*make_net({{"latent_dim", 2}, {"hidden", json::array()}}, {3, 4})), 88);
  // Default on 784 values: encoder 2(784*300+300) + 2(300*300+300) = 471000 + 180600; mu, logvar
  // 2(300*32+32) = 19264; decoder 2(32*300+300) + 180600 + (300*784+784) = 19800 + 180600 + 235984.
  // total 1107248.
  EXPECT_EQ(count(*make_net()), 1107248);
}

TEST(GatedMlp, LinearWeightsHaveTheHeInitialisation) {
  // he_init of the VampPrior code: W ~ N(0, 2 / in). The first layer's 300*784 weights W_h have a
  // standard deviation within 1% of sqrt(2/784) = 0.0505 (relative standard error 0.15%).
  torch::manual_seed(2);
  auto net = make_net();
  const auto w = params(*net).at("encoder.0.h.weight");
  EXPECT_NEAR(w.std().item<double>(), std::sqrt(2.0 / 784), 0.01 * std::sqrt(2.0 / 784));
  EXPECT_NEAR(w.mean().item<double>(), 0.0, 1e-3);
}

TEST(GatedMlp, GradientsReachEveryParameter) {
  torch::manual_seed(3);
  auto net = make_net({{"likelihood", "gaussian"}, {"learn_sigma", true}});
  const auto x = torch::rand({4, 1, 28, 28});
  const auto q = net->encode(x);
  const auto z = priorlab::sample_diag_gaussian(q, 3);  // [3, 4, D]
  const auto loss = -net->log_likelihood(x, net->decode(z)).sum() + priorlab::kl_to_standard_normal(q).sum();
  loss.backward();
  const auto p = params(*net);
  EXPECT_TRUE(p.count("likelihood.log_sigma"));
  for (const auto& [name, t] : p) {
    ASSERT_TRUE(t.grad().defined()) << name;
    EXPECT_GT(t.grad().abs().sum().item<double>(), 0.0) << name;
  }
}

TEST(GatedMlp, LogLikelihoodIsTheBernoulliOfTheDecoderLogits) {
  torch::manual_seed(4);
  auto net = make_net();
  torch::NoGradGuard no_grad;
  const auto x = torch::rand({3, 1, 28, 28}).bernoulli();
  const auto logits = net->decode(torch::randn({2, 3, 32}));
  const auto ll = net->log_likelihood(x, logits);
  ASSERT_EQ(ll.sizes(), (std::vector<std::int64_t>{2, 3}));
  EXPECT_TRUE(torch::allclose(ll, priorlab::bernoulli_log_likelihood(x, logits, 3), 1e-5, 1e-4));
  // x log sigmoid(l) + (1 - x) log(1 - sigmoid(l)), in double.
  const auto s = torch::sigmoid(logits.to(torch::kDouble));
  const auto xd = x.to(torch::kDouble);
  EXPECT_TRUE(
      torch::allclose(ll.to(torch::kDouble), (xd * s.log() + (1 - xd) * (1 - s).log()).sum({-3, -2, -1}), 1e-6, 1e-3));
}

TEST(GatedMlp, LearnsToReconstructAFewExamples) {
  // 8 fixed binary vectors of 64 values: at initialisation the reconstruction costs about
  // 64 log 2 = 44 nats or more (random logits); 150 Adam steps on the ELBO must bring
  // -log p(x|z) below a quarter of where it started.
  // One thread: on tensors this small OpenMP's barriers cost more than the arithmetic (20x on
  // a busy 2-core machine).
  const int threads = torch::get_num_threads();
  torch::set_num_threads(1);
  torch::manual_seed(5);
  auto net = make_net({{"latent_dim", 4}, {"hidden", {64}}}, {64});
  const auto x = torch::rand({8, 64}).bernoulli();
  torch::optim::Adam opt(net->parameters(), torch::optim::AdamOptions(3e-3));
  auto distortion = [&] {
    const auto q = net->encode(x);
    return std::make_pair(-net->log_likelihood(x, net->decode(priorlab::sample_diag_gaussian(q))).mean(),
                          priorlab::kl_to_standard_normal(q).mean());
  };
  const double before = distortion().first.item<double>();
  for (int step = 0; step < 150; ++step) {
    opt.zero_grad();
    const auto [nll, kl] = distortion();
    (nll + kl).backward();
    opt.step();
  }
  const double after = distortion().first.item<double>();
  torch::set_num_threads(threads);
  EXPECT_GT(before, 30.0);
  EXPECT_LT(after, before / 4) << "before " << before;
  std::cout << "distortion before " << before << ", after " << after << " nats\n";
}

TEST(GatedMlp, BadShapesAreLocatedErrors) {
  EXPECT_EQ(error_place([] { make_net(json::object(), {}); }), "plugin 'gated_mlp': /test");
  EXPECT_EQ(error_place([] { make_net({{"logvar_min", 3.0}}); }), "plugin 'gated_mlp': /test/options/logvar_min");
  auto net = make_net();
  torch::NoGradGuard no_grad;
  EXPECT_EQ(error_place([&] { net->encode(torch::rand({2, 784})); }), "/test");
  EXPECT_EQ(error_place([&] { net->decode(torch::randn({2, 3, 16})); }), "/test");
}
