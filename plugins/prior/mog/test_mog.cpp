// Prior "mog": its density against the mixture written out by hand, its samples' mean and
// covariance against the mixture's closed form, its initialisation, and its gradients.
#include <cmath>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "test_util.hpp"

namespace {

using priorlab::BuildContext;
using priorlab::Prior;
using priorlab::test::json;

constexpr std::int64_t kK = 3, kD = 2;

std::shared_ptr<Prior> make_mog(std::int64_t latent, json options = json::object()) {
  BuildContext ctx;
  ctx.latent_dim = latent;
  return priorlab::test::make<Prior>("mog", options, ctx);
}

// A fixed mixture of 3 components in 2-D, in double precision. Component 3 carries most weight
// and has log-variances well away from 0, so variance exp(lv) and the reference's exp(2 lv)
// (noise scaled by exp(lv)) differ clearly in both dimensions.
const std::vector<std::vector<double>> kMeans{{0.5, -1.0}, {2.0, 0.3}, {-1.5, 1.2}};
const std::vector<std::vector<double>> kLogvars{{0.2, -0.5}, {-1.0, 0.4}, {0.8, 0.7}};
const std::vector<double> kLogits{0.3, -0.8, 1.1};

std::shared_ptr<Prior> fixed_mog() {
  auto prior = make_mog(kD, {{"components", kK}});
  prior->to(torch::kDouble);
  torch::NoGradGuard no_grad;
  auto p = priorlab::test::named_params(*prior);
  for (std::int64_t k = 0; k < kK; ++k) {
    for (std::int64_t d = 0; d < kD; ++d) {
      p.at("means")[k][d].fill_(kMeans[k][d]);
      p.at("logvars")[k][d].fill_(kLogvars[k][d]);
    }
    p.at("logits")[k].fill_(kLogits[k]);
  }
  return prior;
}

/// π_k = exp(w_k) / Σ_j exp(w_j).
std::vector<double> mixing_weights() {
  double total = 0;
  for (double w : kLogits) total += std::exp(w);
  std::vector<double> pi;
  for (double w : kLogits) pi.push_back(std::exp(w) / total);
  return pi;
}

TEST(Mog, DensityIsTheMixtureWrittenOutByHand) {
  torch::manual_seed(1);
  auto prior = fixed_mog();
  const auto z = torch::randn({5, 2, kD}, torch::kDouble) * 2;
  const auto got = prior->log_prob(z);
  ASSERT_EQ(got.sizes(), (std::vector<std::int64_t>{5, 2}));
  // p(z) = Σ_k π_k Π_d exp(−(z_d − μ_kd)² / (2 σ²_kd)) / sqrt(2π σ²_kd), σ²_kd = exp(lv_kd).
  const auto pi = mixing_weights();
  for (std::int64_t i = 0; i < 5; ++i)
    for (std::int64_t j = 0; j < 2; ++j) {
      double p = 0;
      for (std::int64_t k = 0; k < kK; ++k) {
        double density = 1;
        for (std::int64_t d = 0; d < kD; ++d) {
          const double x = z[i][j][d].item<double>(), mu = kMeans[k][d], var = std::exp(kLogvars[k][d]);
          density *= std::exp(-0.5 * (x - mu) * (x - mu) / var) / std::sqrt(2 * M_PI * var);
        }
        p += pi[k] * density;
      }
      EXPECT_NEAR(got[i][j].item<double>(), std::log(p), 1e-10) << i << "," << j;
    }
  // One point without leading dimensions -> a scalar. At z = (0.3, −0.2) the mixture gives
  // −3.11264 and the reference's product of per-dimension mixtures −3.21406 (computed apart).
  const auto one = prior->log_prob(torch::tensor({0.3, -0.2}, torch::kDouble));
  EXPECT_EQ(one.dim(), 0);
  EXPECT_NEAR(one.item<double>(), -3.1126370084270345, 1e-12);
  EXPECT_EQ(prior->bound_samples(), 0);  // exact, no K
}

TEST(Mog, SamplesHaveTheMixturesMeanAndCovariance) {
  // Closed form: m = Σ_k π_k μ_k,  C = Σ_k π_k (diag σ²_k + μ_k μ_kᵀ) − m mᵀ
  //   = [[3.24847, −0.90638], [−0.90638, 2.51197]] here (with the reference's exp(lv) as the
  //   standard deviation the diagonal would be 5.00857 and 3.79032).
  torch::manual_seed(2);
  auto prior = fixed_mog();
  torch::NoGradGuard no_grad;
  const std::int64_t n = 200000;
  const auto s = prior->sample(n);
  ASSERT_EQ(s.sizes(), (std::vector<std::int64_t>{n, kD}));
  EXPECT_EQ(s.scalar_type(), torch::kDouble);

  const auto pi = mixing_weights();
  std::vector<double> mean(kD, 0.0);
  for (std::int64_t k = 0; k < kK; ++k)
    for (std::int64_t d = 0; d < kD; ++d) mean[d] += pi[k] * kMeans[k][d];
  const auto centred = s - s.mean(0);
  const auto cov = centred.t().matmul(centred) / static_cast<double>(n);  // [D, D]
  // At n = 2e5 the mean's standard error is sqrt(C_dd / n) ≤ 0.004; over five seeds the sample
  // covariance was off by at most 0.018 (off the diagonal) and 0.012 (on it).
  for (std::int64_t d = 0; d < kD; ++d) {
    EXPECT_NEAR(s.mean(0)[d].item<double>(), mean[d], 0.02) << d;
    for (std::int64_t e = 0; e < kD; ++e) {
      double c = -mean[d] * mean[e];
      for (std::int64_t k = 0; k < kK; ++k)
        c += pi[k] * ((d == e ? std::exp(kLogvars[k][d]) : 0.0) + kMeans[k][d] * kMeans[k][e]);
      EXPECT_NEAR(cov[d][e].item<double>(), c, 0.06) << d << "," << e;
    }
  }
}

TEST(Mog, SamplesRepeatFromTheSeedAndFollowTheModule) {
  auto prior = make_mog(3, {{"components", 5}});
  torch::manual_seed(9);
  const auto a = prior->sample(50);
  torch::manual_seed(9);
  const auto b = prior->sample(50);
  EXPECT_TRUE(torch::equal(a, b));
  EXPECT_EQ(a.scalar_type(), torch::kFloat);
  prior->to(torch::kDouble);
  EXPECT_EQ(prior->sample(4).scalar_type(), torch::kDouble);
  EXPECT_EQ(prior->sample(0).sizes(), (std::vector<std::int64_t>{0, 3}));
}

TEST(Mog, DefaultsAndInitialisation) {
  // Defaults: K = 16 components, means N(0, I), log-variances N(0, I), uniform weights.
  auto prior = make_mog(4);
  auto p = priorlab::test::named_params(*prior);
  ASSERT_EQ(p.size(), 3u);
  EXPECT_EQ(p.at("means").sizes(), (std::vector<std::int64_t>{16, 4}));
  EXPECT_EQ(p.at("logvars").sizes(), (std::vector<std::int64_t>{16, 4}));
  EXPECT_EQ(p.at("logits").sizes(), (std::vector<std::int64_t>{16}));
  EXPECT_EQ(p.at("logits").abs().max().item<double>(), 0.0);
  EXPECT_EQ(prior->log_prob(torch::randn({4, 6, 4})).sizes(), (std::vector<std::int64_t>{4, 6}));
  EXPECT_EQ(prior->sample(7).sizes(), (std::vector<std::int64_t>{7, 4}));

  // init_scale and init_logvar_std scale standard normal draws: with 4000 x 3 values each, the
  // sample standard deviation is within 3% (its standard error is 1/sqrt(2 * 12000) = 0.65%) and
  // the sample mean within 5 standard errors (2.5/sqrt(12000) = 0.023 for the means).
  torch::manual_seed(4);
  auto wide = make_mog(3, {{"components", 4000}, {"init_scale", 2.5}, {"init_logvar_std", 0.5}});
  auto q = priorlab::test::named_params(*wide);
  EXPECT_NEAR(q.at("means").std().item<double>(), 2.5, 0.075);
  EXPECT_NEAR(q.at("means").mean().item<double>(), 0.0, 0.12);
  EXPECT_NEAR(q.at("logvars").std().item<double>(), 0.5, 0.015);
  EXPECT_NEAR(q.at("logvars").mean().item<double>(), 0.0, 0.025);
  auto flat = make_mog(2, {{"components", 3}, {"init_scale", 0.0}, {"init_logvar_std", 0.0}});
  // All components N(0, I): log p(0) = −log 2π.
  EXPECT_NEAR(flat->log_prob(torch::zeros({kD})).item<double>(), -std::log(2 * M_PI), 1e-6);
}

TEST(Mog, GradientsReachEveryParameter) {
  auto prior = make_mog(3, {{"components", 4}});
  prior->log_prob(torch::randn({10, 3})).sum().backward();
  for (const auto& item : prior->named_parameters()) {
    ASSERT_TRUE(item.value().grad().defined()) << item.key();
    EXPECT_GT(item.value().grad().abs().sum().item<double>(), 0.0) << item.key();
  }
  // The samples are reparameterised in the means and log-variances.
  prior->zero_grad();
  prior->sample(20).pow(2).sum().backward();
  auto p = priorlab::test::named_params(*prior);
  EXPECT_GT(p.at("means").grad().abs().sum().item<double>(), 0.0);
  EXPECT_GT(p.at("logvars").grad().abs().sum().item<double>(), 0.0);
}

TEST(Mog, NeedsALatentDimension) {
  EXPECT_EQ(priorlab::test::error_place([] { make_mog(0); }), "plugin 'mog': /test");
}

}  // namespace
