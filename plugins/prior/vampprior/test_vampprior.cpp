// Prior "vampprior": its density against the mixture written out by hand, its samples' moments
// against the mixture's, and its gradients.
#include <cmath>

#include <gtest/gtest.h>

#include "linear_gaussian_vae.hpp"
#include "test_util.hpp"

namespace {

using priorlab::BuildContext;
using priorlab::Network;
using priorlab::Prior;
using priorlab::test::json;
using priorlab::test::LinearGaussianVae;

std::shared_ptr<Prior> make_vamp(std::shared_ptr<Network> net, std::vector<std::int64_t> shape, json options) {
  BuildContext ctx;
  ctx.latent_dim = net->latent_dim();
  ctx.network = std::move(net);
  ctx.data.shape = std::move(shape);
  return priorlab::test::make<Prior>("vampprior", options, ctx);
}

torch::Tensor pseudo_inputs(Prior& p) { return p.named_parameters()["pseudo_inputs"]; }

TEST(VampPrior, DensityIsTheMixtureOfEncodedPseudoInputs) {
  torch::manual_seed(1);
  auto vae = std::make_shared<LinearGaussianVae>(0.7, 2.0);
  auto prior = make_vamp(vae, {LinearGaussianVae::kN}, {{"components", 3}, {"input_min", -5.0}, {"input_max", 5.0}});
  prior->to(torch::kDouble);
  {
    torch::NoGradGuard g;
    pseudo_inputs(*prior).copy_(torch::tensor({0.1, 0.5, -1.0, 2.0, 1.5, -0.3, 0.0, 0.7, -2.0, 1.0, 1.0, 0.2},
                                              torch::kDouble).view({3, 4}));
  }
  const auto z = torch::randn({5, 2, LinearGaussianVae::kD}, torch::kDouble) * 2;
  const auto got = prior->log_prob(z);
  ASSERT_EQ(got.sizes(), (std::vector<std::int64_t>{5, 2}));

  // By hand: p(z) = (1/3) Σ_m Π_d N(z_d; μ_md, σ²_md), with (μ_m, σ²_m) the encoder's output at u_m.
  const auto c = vae->encode(pseudo_inputs(*prior).detach());
  for (std::int64_t i = 0; i < 5; ++i)
    for (std::int64_t j = 0; j < 2; ++j) {
      double p = 0;
      for (std::int64_t m = 0; m < 3; ++m) {
        double density = 1;
        for (std::int64_t d = 0; d < LinearGaussianVae::kD; ++d) {
          const double mu = c.mu[m][d].item<double>(), var = std::exp(c.logvar[m][d].item<double>());
          const double x = z[i][j][d].item<double>();
          density *= std::exp(-0.5 * (x - mu) * (x - mu) / var) / std::sqrt(2 * M_PI * var);
        }
        p += density / 3;
      }
      EXPECT_NEAR(got[i][j].item<double>(), std::log(p), 1e-10) << i << "," << j;
    }
  EXPECT_EQ(prior->bound_samples(), 0);  // exact, no K
}

TEST(VampPrior, PseudoInputsAreClampedToTheDataRange) {
  auto vae = std::make_shared<LinearGaussianVae>();
  auto prior = make_vamp(vae, {LinearGaussianVae::kN}, {{"components", 1}});  // range [0, 1]
  prior->to(torch::kDouble);
  {
    torch::NoGradGuard g;
    pseudo_inputs(*prior).copy_(torch::tensor({2.0, -1.0, 0.5, 7.0}, torch::kDouble).view({1, 4}));
  }
  const auto z = torch::randn({6, LinearGaussianVae::kD}, torch::kDouble);
  const auto c = vae->encode(torch::tensor({1.0, 0.0, 0.5, 1.0}, torch::kDouble).view({1, 4}));
  const auto want = priorlab::diag_gaussian_log_density(z, c.mu, c.logvar);  // one component: log p = log q(z|u)
  EXPECT_TRUE(torch::allclose(prior->log_prob(z), want, 0, 1e-12));
}

TEST(VampPrior, SamplesHaveTheMixturesMoments) {
  // Mixture mean = average of μ_m; covariance (diagonal part) = average of σ²_m + variance of μ_m.
  torch::manual_seed(2);
  auto vae = std::make_shared<LinearGaussianVae>(1.0, 1.0);
  auto prior = make_vamp(vae, {LinearGaussianVae::kN}, {{"components", 4}, {"init_std", 1.0}, {"input_min", -9.0},
                                                         {"input_max", 9.0}});
  prior->to(torch::kDouble);
  torch::NoGradGuard g;
  const auto c = vae->encode(pseudo_inputs(*prior));
  const auto s = prior->sample(200000);
  ASSERT_EQ(s.sizes(), (std::vector<std::int64_t>{200000, LinearGaussianVae::kD}));
  const auto mean = c.mu.mean(0);
  const auto var = c.logvar.exp().mean(0) + c.mu.var(0, /*unbiased=*/false);
  // Standard errors: sqrt(var / n) ≈ 0.003 for the mean; the variance's is similar in relative terms.
  EXPECT_LT((s.mean(0) - mean).abs().max().item<double>(), 0.015);
  EXPECT_LT(((s.var(0) - var) / var).abs().max().item<double>(), 0.03);
}

TEST(VampPrior, GradientsReachPseudoInputsAndTheEncoder) {
  // tanh, not the default ReLU: the pseudo-inputs start near 0.05, so with ReLU every hidden unit
  // can be off for all of them (about 1 draw in 256), and then no gradient reaches them at all.
  // Which draw a seed gives depends on the CPU's kernels (ATEN_CPU_CAPABILITY=avx512 gave that draw
  // for the unseeded test), so the test must not rest on one.
  torch::manual_seed(3);
  BuildContext nctx;
  nctx.data.shape = {1, 4, 4};
  auto net = priorlab::test::make<Network>("mlp", {{"latent_dim", 3}, {"hidden", {8}}, {"activation", "tanh"}}, nctx);
  auto prior = make_vamp(net, {1, 4, 4}, {{"components", 5}});
  EXPECT_EQ(pseudo_inputs(*prior).sizes(), (std::vector<std::int64_t>{5, 1, 4, 4}));
  // The encoder's parameters are the network's, not the prior's.
  EXPECT_EQ(prior->parameters().size(), 1u);
  prior->log_prob(torch::randn({7, 3})).sum().backward();
  EXPECT_GT(pseudo_inputs(*prior).grad().abs().sum().item<double>(), 0.0);
  for (const auto& p : net->named_parameters())
    if (p.key().rfind("encoder", 0) == 0) {
      ASSERT_TRUE(p.value().grad().defined()) << p.key();
      EXPECT_GT(p.value().grad().abs().sum().item<double>(), 0.0) << p.key();
    }
  EXPECT_EQ(prior->sample(9).sizes(), (std::vector<std::int64_t>{9, 3}));
}

TEST(VampPrior, RejectsAnEmptyRange) {
  auto vae = std::make_shared<LinearGaussianVae>();
  try {
    make_vamp(vae, {LinearGaussianVae::kN}, {{"input_min", 1.0}, {"input_max", 1.0}});
    FAIL() << "no error";
  } catch (const priorlab::Error& e) {
    EXPECT_NE(std::string(e.what()).find("/options/input_min"), std::string::npos) << e.what();
  }
}

}  // namespace
