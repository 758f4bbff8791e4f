// SDK numerics against closed forms computed independently (by hand or in double precision
// from the textbook formula).
#include <cmath>

#include <gtest/gtest.h>

#include "priorlab/math.hpp"

using namespace priorlab;

TEST(Math, DiagGaussianLogDensityMatchesHandComputedValue) {
  // x = (1, -2), mu = (0.5, 0), sigma^2 = (4, 0.25):
  // log N = -1/2 [2 log 2pi + log 4 + log 0.25 + 0.25^2/4... ] computed term by term below.
  const double x1 = 1, x2 = -2, m1 = 0.5, m2 = 0, v1 = 4, v2 = 0.25;
  const double expected = -0.5 * (2 * std::log(2 * M_PI) + std::log(v1) + std::log(v2) + (x1 - m1) * (x1 - m1) / v1 +
                                   (x2 - m2) * (x2 - m2) / v2);
  const auto got = diag_gaussian_log_density(torch::tensor({x1, x2}, torch::kDouble), torch::tensor({m1, m2}, torch::kDouble),
                                             torch::tensor({std::log(v1), std::log(v2)}, torch::kDouble));
  EXPECT_NEAR(got.item<double>(), expected, 1e-12);
}

TEST(Math, StandardNormalIsDiagGaussianWithZeroMeanUnitVariance) {
  const auto z = torch::randn({7, 3}, torch::kDouble);
  const auto a = standard_normal_log_density(z);
  const auto b = diag_gaussian_log_density(z, torch::zeros_like(z), torch::zeros_like(z));
  EXPECT_TRUE(torch::allclose(a, b));
  EXPECT_EQ(a.sizes(), (std::vector<int64_t>{7}));
}

TEST(Math, BernoulliLogLikelihoodMatchesLogSigmoidFormAndIsStable) {
  // x log s(l) + (1-x) log(1-s(l)) for moderate logits, summed over 2 event dims.
  const auto logits = torch::tensor({{0.3, -1.2}, {2.0, 0.0}}, torch::kDouble).reshape({1, 2, 2});
  const auto x = torch::tensor({{1.0, 0.0}, {0.0, 1.0}}, torch::kDouble).reshape({1, 2, 2});
  double expected = 0;
  const double l[] = {0.3, -1.2, 2.0, 0.0}, xs[] = {1, 0, 0, 1};
  for (int i = 0; i < 4; ++i) {
    const double s = 1 / (1 + std::exp(-l[i]));
    expected += xs[i] * std::log(s) + (1 - xs[i]) * std::log(1 - s);
  }
  EXPECT_NEAR(bernoulli_log_likelihood(x, logits, 2).item<double>(), expected, 1e-12);
  // Saturated logits: log sigmoid(-100) = -100 - log(1 + e^-100) ~ -100, no -inf.
  const auto big = bernoulli_log_likelihood(torch::ones({1, 1}, torch::kDouble), torch::full({1, 1}, -100.0, torch::kDouble), 1);
  EXPECT_NEAR(big.item<double>(), -100.0, 1e-9);
}

TEST(Math, LogMeanExpEqualsLogOfMeanAndSurvivesLargeValues) {
  const auto t = torch::tensor({{0.1, 2.0}, {-1.0, 0.5}, {3.0, -4.0}}, torch::kDouble);  // [K=3, 2]
  const auto direct = torch::log(torch::exp(t).mean(0));
  EXPECT_TRUE(torch::allclose(log_mean_exp(t, 0), direct, 1e-12, 1e-12));
  // Shifting by 1000 would overflow exp(); log-mean-exp shifts exactly.
  EXPECT_TRUE(torch::allclose(log_mean_exp(t + 1000.0, 0), direct + 1000.0, 1e-12, 1e-9));
  EXPECT_TRUE(torch::allclose(importance_weighted_bound(t), direct, 1e-12, 1e-12));
}

TEST(Math, ReparameterisedSamplesHaveTheRequestedMomentsAndShape) {
  torch::manual_seed(1);
  DiagGaussian q{torch::tensor({1.0, -3.0}, torch::kDouble), torch::tensor({std::log(4.0), std::log(0.01)}, torch::kDouble)};
  const auto z = sample_diag_gaussian(q, 200000);  // [K, 2]
  ASSERT_EQ(z.sizes(), (std::vector<int64_t>{200000, 2}));
  // Standard error of the mean: sigma / sqrt(n) = 2 / 447 ~ 0.0045; allow 5 of them.
  EXPECT_NEAR(z.select(1, 0).mean().item<double>(), 1.0, 0.023);
  EXPECT_NEAR(z.select(1, 1).mean().item<double>(), -3.0, 0.0012);
  EXPECT_NEAR(z.select(1, 0).var().item<double>(), 4.0, 0.05);
  EXPECT_NEAR(z.select(1, 1).var().item<double>(), 0.01, 0.0002);
  // Gradients flow to mu and logvar through the sample.
  auto mu = torch::zeros({3}, torch::requires_grad());
  auto lv = torch::zeros({3}, torch::requires_grad());
  sample_diag_gaussian({mu, lv}).sum().backward();
  EXPECT_TRUE(torch::allclose(mu.grad(), torch::ones({3})));
  EXPECT_TRUE(lv.grad().defined());
}

TEST(Math, ClosedFormKlMatchesMonteCarloEstimate) {
  // KL(q || N(0, I)) = E_q[log q(z) - log p(z)]; the sample mean converges to the closed form.
  torch::manual_seed(2);
  DiagGaussian q{torch::tensor({0.7, -0.2, 1.5}, torch::kDouble), torch::tensor({-0.5, 0.3, -1.0}, torch::kDouble)};
  const auto z = sample_diag_gaussian(q, 400000);
  const auto mc = (diag_gaussian_log_density(z, q.mu, q.logvar) - standard_normal_log_density(z)).mean().item<double>();
  // Hand value: 1/2 sum(exp(lv) + mu^2 - 1 - lv)
  double hand = 0;
  const double mu[] = {0.7, -0.2, 1.5}, lv[] = {-0.5, 0.3, -1.0};
  for (int i = 0; i < 3; ++i) hand += 0.5 * (std::exp(lv[i]) + mu[i] * mu[i] - 1 - lv[i]);
  EXPECT_NEAR(kl_to_standard_normal(q).item<double>(), hand, 1e-12);
  EXPECT_NEAR(mc, hand, 0.01);
}

TEST(Math, PerDimensionGaussianLogDensityIsTheHandComputedTermsAndSumsToTheTotal) {
  // x = (1, -2), mu = (0.5, 0), sigma^2 = (4, 0.25): each term -1/2 [log 2pi + log v + (x - m)^2 / v].
  const double x[] = {1, -2}, m[] = {0.5, 0}, v[] = {4, 0.25};
  const auto got = diag_gaussian_log_density_per_dimension(
      torch::tensor({x[0], x[1]}, torch::kDouble), torch::tensor({m[0], m[1]}, torch::kDouble),
      torch::tensor({std::log(v[0]), std::log(v[1])}, torch::kDouble));
  ASSERT_EQ(got.sizes(), (std::vector<int64_t>{2}));
  for (int d = 0; d < 2; ++d)
    EXPECT_NEAR(got[d].item<double>(), -0.5 * (std::log(2 * M_PI) + std::log(v[d]) + (x[d] - m[d]) * (x[d] - m[d]) / v[d]),
                1e-12);
  // Broadcasting [K, B, D] against [B, D], and the sum over the last dimension is the total.
  const auto z = torch::randn({3, 5, 4}, torch::kDouble), mu = torch::randn({5, 4}, torch::kDouble),
             lv = torch::randn({5, 4}, torch::kDouble);
  const auto per = diag_gaussian_log_density_per_dimension(z, mu, lv);
  EXPECT_EQ(per.sizes(), (std::vector<int64_t>{3, 5, 4}));
  EXPECT_TRUE(torch::allclose(per.sum(-1), diag_gaussian_log_density(z, mu, lv), 1e-12, 1e-12));
}
