// Objective "iwae" on a linear-Gaussian VAE whose log p(x) is known in closed form.
#include <cmath>

#include <gtest/gtest.h>

#include "linear_gaussian_vae.hpp"
#include "test_util.hpp"

namespace {

using priorlab::BuildContext;
using priorlab::Objective;
using priorlab::Prior;
using priorlab::test::json;
using priorlab::test::LinearGaussianVae;

std::shared_ptr<Objective> iwae(std::int64_t k) { return priorlab::test::make<Objective>("iwae", {{"samples", k}}); }

std::shared_ptr<Prior> gaussian() {
  BuildContext ctx;
  ctx.latent_dim = LinearGaussianVae::kD;
  auto p = priorlab::test::make<Prior>("gaussian", json::object(), ctx);
  p->to(torch::kDouble);
  return p;
}

TEST(Iwae, ExactPosteriorGivesLogMarginalForEveryK) {
  // With q = p(z|x), every weight p(x|z)p(z)/q(z|x) equals p(x): the bound is exact for any K.
  torch::manual_seed(1);
  LinearGaussianVae vae;
  const auto x = vae.draw(300);
  const double truth = vae.log_marginal(x).mean().item<double>();
  auto prior = gaussian();
  for (std::int64_t k : {1, 4, 32}) {
    const auto t = iwae(k)->compute(x, vae, *prior, 1.0);
    EXPECT_NEAR(-t.loss.item<double>(), truth, 1e-10) << "K = " << k;
  }
}

TEST(Iwae, BoundRisesWithKTowardsLogMarginal) {
  // A poor q (mean shrunk to 0.5, variance x3): the K = 1 gap is KL(q || p(z|x)), about
  // 0.9 nats here; Burda et al.'s Theorem 1 gives E[bound_K] non-decreasing in K and -> log p(x).
  // 4000 examples: the standard error of each mean is ~0.02 nats, far below the gaps compared.
  torch::manual_seed(2);
  LinearGaussianVae vae(0.5, 3.0);
  const auto x = vae.draw(4000);
  const double truth = vae.log_marginal(x).mean().item<double>();
  auto prior = gaussian();
  std::vector<double> gaps;
  for (std::int64_t k : {1, 5, 50, 500}) gaps.push_back(truth + iwae(k)->compute(x, vae, *prior, 1.0).loss.item<double>());
  EXPECT_GT(gaps[0], 0.5);
  for (std::size_t i = 1; i < gaps.size(); ++i) EXPECT_LT(gaps[i], gaps[i - 1] - 0.05) << "step " << i;
  EXPECT_GT(gaps[3], -0.02);  // still a lower bound
  EXPECT_LT(gaps[3], 0.1);
}

TEST(Iwae, SingleSampleIsTheBetaElboSampleForSample) {
  // K = 1 draws the same ε as the elbo objective (same generator state, same numel), so the
  // losses agree exactly for any β, and so do the per-example terms.
  LinearGaussianVae vae(0.8, 1.5);
  auto prior = gaussian();
  torch::manual_seed(3);
  const auto x = vae.draw(64);
  for (double beta : {1.0, 0.3}) {
    torch::manual_seed(10);
    const auto a = iwae(1)->compute(x, vae, *prior, beta);
    torch::manual_seed(10);
    const auto b = priorlab::test::make<Objective>("elbo")->compute(x, vae, *prior, beta);
    EXPECT_NEAR(a.loss.item<double>(), b.loss.item<double>(), 1e-12) << beta;
    EXPECT_TRUE(torch::allclose(a.rate, b.rate, 0, 1e-12));
    EXPECT_TRUE(torch::allclose(a.distortion, b.distortion, 0, 1e-12));
    EXPECT_TRUE(torch::allclose(a.squared_error, b.squared_error, 0, 1e-12));
  }
}

TEST(Iwae, BetaWeightsTheRateInsideTheLogMeanExp) {
  // Hand computation of the loss from the reported per-sample pieces is not possible (they
  // are averaged), so recompute it here from the same draws: log w_k = log p(x|z_k) − β r_k.
  LinearGaussianVae vae(0.6, 2.0);
  auto prior = gaussian();
  torch::manual_seed(4);
  const auto x = vae.draw(16);
  const double beta = 0.25;
  const std::int64_t k = 7;
  torch::manual_seed(11);
  const double loss = iwae(k)->compute(x, vae, *prior, beta).loss.item<double>();
  torch::manual_seed(11);
  const auto q = vae.encode(x);
  const auto z = q.mu + torch::exp(0.5 * q.logvar) * torch::randn({k, 16, LinearGaussianVae::kD}, torch::kDouble);
  const auto params = vae.decode(z);
  const auto log_px = -0.5 * ((x - params).pow(2) / (LinearGaussianVae::kS * LinearGaussianVae::kS) +
                              std::log(2 * M_PI * LinearGaussianVae::kS * LinearGaussianVae::kS)).sum(-1);
  const auto log_q = -0.5 * ((z - q.mu).pow(2) / q.logvar.exp() + q.logvar + std::log(2 * M_PI)).sum(-1);
  const auto log_p = -0.5 * (z.pow(2) + std::log(2 * M_PI)).sum(-1);
  const auto log_w = log_px - beta * (log_q - log_p);
  const double want = -(torch::logsumexp(log_w, 0) - std::log(static_cast<double>(k))).mean().item<double>();
  EXPECT_NEAR(loss, want, 1e-10);
}

}  // namespace
