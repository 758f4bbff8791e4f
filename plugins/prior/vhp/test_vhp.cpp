// Prior "vhp" against a linear-Gaussian hierarchy with a closed form.
//
// With hidden = [] both MLPs are single Linear layers, so writing their parameters makes
//   p(z|ζ) = N(A ζ + b, diag s²),   p(ζ) = N(0, I)   =>   p(z) = N(b, Σ),  Σ = A Aᵀ + diag s²,
// and the exact posterior is p(ζ|z) = N(S Aᵀ Ψ⁻¹ (z − b), S),  S = (I + Aᵀ Ψ⁻¹ A)⁻¹,  Ψ = diag s².
// A's columns are chosen Ψ⁻¹-orthogonal so S is diagonal and q(ζ|z) (diagonal) can be exact.
// Everything runs in double precision.
#include <algorithm>
#include <cmath>
#include <map>
#include <string>

#include <gtest/gtest.h>

#include "test_util.hpp"

namespace {

using priorlab::BuildContext;
using priorlab::Prior;
using priorlab::test::json;

constexpr std::int64_t kD = 3;     // latent dimension of z
constexpr std::int64_t kZeta = 2;  // dimension of ζ
constexpr double kLog2Pi = 1.8378770664093453;

torch::Tensor dbl(std::vector<double> v, std::vector<std::int64_t> shape) {
  return torch::tensor(v, torch::kDouble).reshape(shape);
}

struct LinearGaussian {
  // Columns a1 = (1, 0.6, 0.4), a2 = (1, -2, 1): a1ᵀ Ψ⁻¹ a2 = 1/0.5 - 1.2/0.3 + 0.4/0.2 = 2 - 4 + 2 = 0.
  torch::Tensor A = dbl({1, 1, 0.6, -2, 0.4, 1}, {kD, kZeta});
  torch::Tensor b = dbl({0.3, -0.5, 1.0}, {kD});
  torch::Tensor s2 = dbl({0.5, 0.3, 0.2}, {kD});

  torch::Tensor sigma() const { return A.matmul(A.t()) + torch::diag(s2); }

  /// log N(z; b, Σ) for z [N, D] -> [N], the textbook full-covariance formula.
  torch::Tensor log_density(const torch::Tensor& z) const {
    const auto cov = sigma();
    const auto r = z - b;
    const auto quad = (r.matmul(torch::inverse(cov)) * r).sum(-1);
    return -0.5 * (kD * kLog2Pi + torch::logdet(cov) + quad);
  }

  /// Posterior covariance S (diagonal here) and the map W = S Aᵀ Ψ⁻¹ with mean W (z − b).
  torch::Tensor posterior_cov() const {
    return torch::inverse(torch::eye(kZeta, torch::kDouble) + A.t().matmul(torch::diag(1.0 / s2)).matmul(A));
  }
  torch::Tensor posterior_map() const { return posterior_cov().matmul(A.t()).matmul(torch::diag(1.0 / s2)); }

  /// z ~ N(b, Σ) drawn independently of the plugin (Cholesky factor).
  torch::Tensor draw(std::int64_t n) const {
    return b + torch::randn({n, kD}, torch::kDouble).matmul(torch::linalg_cholesky(sigma()).t());
  }
};

std::shared_ptr<Prior> make_vhp(json options, std::int64_t latent = kD) {
  BuildContext ctx;
  ctx.latent_dim = latent;
  return priorlab::test::make<Prior>("vhp", options, ctx);
}

std::map<std::string, torch::Tensor> params(Prior& prior) { return priorlab::test::named_params(prior); }

/// Writes p(z|ζ) = N(Aζ + b, diag s²) and q(ζ|z) = N(W (z − b) * mean_scale, diag(v_q)).
void set_linear(Prior& prior, const LinearGaussian& g, double mean_scale, double var_scale) {
  torch::NoGradGuard no_grad;
  auto p = params(prior);
  const auto W = g.posterior_map() * mean_scale;               // [Dζ, D]
  const auto vq = torch::diag(g.posterior_cov()) * var_scale;  // [Dζ]
  p.at("p_z.0.weight").copy_(torch::cat({g.A, torch::zeros({kD, kZeta}, torch::kDouble)}, 0));
  p.at("p_z.0.bias").copy_(torch::cat({g.b, torch::log(g.s2)}));
  p.at("q_zeta.0.weight").copy_(torch::cat({W, torch::zeros({kZeta, kD}, torch::kDouble)}, 0));
  p.at("q_zeta.0.bias").copy_(torch::cat({-W.matmul(g.b), torch::log(vq)}));
}

std::shared_ptr<Prior> linear_vhp(std::int64_t samples, const LinearGaussian& g, double mean_scale, double var_scale) {
  auto prior = make_vhp({{"hidden", json::array()}, {"samples", samples}, {"zeta_dim", kZeta}});
  prior->to(torch::kDouble);
  set_linear(*prior, g, mean_scale, var_scale);
  return prior;
}

/// The same linear-Gaussian hierarchy written into gated conditionals ("layer": "gated",
/// "activation": "linear", hidden = [Dζ]). GatedDense(x) = (W_h x + b_h) * sigmoid(W_g x + b_g);
/// with W_g = 0 the gate is the constant c = sigmoid(gate_bias), so h = (W_h / c) x + b_h / c
/// makes the layer an exact affine map, and the output Linear applies the rest:
///   p_z:    ζ -> GatedDense = ζ -> [A; 0] · + [b; log s²]
///   q_zeta: z -> GatedDense = W (z − b) -> [I; 0] · + [0; log v_q]
std::shared_ptr<Prior> gated_linear_vhp(std::int64_t samples, const LinearGaussian& g, double gate_bias) {
  auto prior = make_vhp({{"hidden", json::array({kZeta})}, {"layer", "gated"}, {"activation", "linear"},
                         {"samples", samples}, {"zeta_dim", kZeta}});
  prior->to(torch::kDouble);
  torch::NoGradGuard no_grad;
  auto p = params(*prior);
  const double c = 1.0 / (1.0 + std::exp(-gate_bias));
  const auto eye = torch::eye(kZeta, torch::kDouble);
  const auto W = g.posterior_map();  // [Dζ, D]
  p.at("p_z.0.h.weight").copy_(eye / c);
  p.at("p_z.0.h.bias").zero_();
  p.at("p_z.0.g.weight").zero_();
  p.at("p_z.0.g.bias").fill_(gate_bias);
  p.at("p_z.1.weight").copy_(torch::cat({g.A, torch::zeros({kD, kZeta}, torch::kDouble)}, 0));
  p.at("p_z.1.bias").copy_(torch::cat({g.b, torch::log(g.s2)}));
  p.at("q_zeta.0.h.weight").copy_(W / c);
  p.at("q_zeta.0.h.bias").copy_(-W.matmul(g.b) / c);
  p.at("q_zeta.0.g.weight").zero_();
  p.at("q_zeta.0.g.bias").fill_(gate_bias);
  p.at("q_zeta.1.weight").copy_(torch::cat({eye, torch::zeros({kZeta, kZeta}, torch::kDouble)}, 0));
  p.at("q_zeta.1.bias").copy_(torch::cat({torch::zeros({kZeta}, torch::kDouble), torch::log(torch::diag(g.posterior_cov()))}));
  return prior;
}

double average(const torch::Tensor& t) { return t.mean().item<double>(); }
double standard_error(const torch::Tensor& t) { return (t.std() / std::sqrt(static_cast<double>(t.numel()))).item<double>(); }

TEST(Vhp, ShapesSubmodulesAndZetaDim) {
  auto prior = make_vhp({{"hidden", json::array({8})}, {"samples", 5}});
  std::vector<std::string> names;
  for (const auto& m : prior->named_children()) names.push_back(m.key());
  EXPECT_NE(std::find(names.begin(), names.end(), "q_zeta"), names.end());
  EXPECT_NE(std::find(names.begin(), names.end(), "p_z"), names.end());
  // zeta_dim 0 means the latent dimension: q_zeta's last layer outputs 2 * D.
  EXPECT_EQ(params(*prior).at("q_zeta.2.weight").sizes(), (std::vector<std::int64_t>{2 * kD, 8}));
  EXPECT_EQ(params(*prior).at("p_z.0.weight").sizes(), (std::vector<std::int64_t>{8, kD}));

  const auto z = torch::randn({4, 6, kD});
  EXPECT_EQ(prior->log_prob(z).sizes(), (std::vector<std::int64_t>{4, 6}));
  EXPECT_EQ(prior->log_prob(torch::randn({kD})).dim(), 0);
  EXPECT_EQ(prior->sample(7).sizes(), (std::vector<std::int64_t>{7, kD}));

  auto wide = make_vhp({{"hidden", json::array()}, {"zeta_dim", 5}});
  EXPECT_EQ(params(*wide).at("p_z.0.weight").sizes(), (std::vector<std::int64_t>{2 * kD, 5}));
  EXPECT_EQ(params(*wide).at("q_zeta.0.weight").sizes(), (std::vector<std::int64_t>{10, kD}));
  EXPECT_EQ(wide->sample(3).sizes(), (std::vector<std::int64_t>{3, kD}));
}

TEST(Vhp, GradientsReachEveryParameter) {
  auto prior = make_vhp({{"hidden", json::array({8, 8})}, {"samples", 4}});
  prior->log_prob(torch::randn({10, kD})).sum().backward();
  for (const auto& item : prior->named_parameters()) {
    ASSERT_TRUE(item.value().grad().defined()) << item.key();
    EXPECT_GT(item.value().grad().abs().sum().item<double>(), 0.0) << item.key();
  }
}

TEST(Vhp, ExactPosteriorGivesExactLogDensityForEveryK) {
  // With q(ζ|z) = p(ζ|z) every weight p(z|ζ_k)p(ζ_k)/q(ζ_k|z) equals p(z): zero variance, so
  // the bound is log p(z) for every K and every draw, up to rounding.
  torch::manual_seed(1);
  const LinearGaussian g;
  const auto z = g.draw(200);
  const auto truth = g.log_density(z);
  for (std::int64_t k : {1, 3, 16}) {
    auto prior = linear_vhp(k, g, 1.0, 1.0);
    const auto bound = prior->log_prob(z);
    EXPECT_LT((bound - truth).abs().max().item<double>(), 1e-10) << "K = " << k;
  }
}

TEST(Vhp, GatedConditionalsHaveTableThreeLayout) {
  // "layer": "gated" makes each hidden layer a GatedDense (two Linear, `h` and `g`) and keeps the
  // output Linear: q_zeta = GatedDense(D, 8), GatedDense(8, 8), Linear(8, 2 Dζ).
  auto prior = make_vhp({{"hidden", json::array({8, 8})}, {"layer", "gated"}, {"activation", "linear"}});
  const auto p = params(*prior);
  EXPECT_EQ(p.at("q_zeta.0.h.weight").sizes(), (std::vector<std::int64_t>{8, kD}));
  EXPECT_EQ(p.at("q_zeta.0.g.weight").sizes(), (std::vector<std::int64_t>{8, kD}));
  EXPECT_EQ(p.at("q_zeta.1.g.weight").sizes(), (std::vector<std::int64_t>{8, 8}));
  EXPECT_EQ(p.at("q_zeta.2.weight").sizes(), (std::vector<std::int64_t>{2 * kD, 8}));
  EXPECT_EQ(p.at("p_z.2.weight").sizes(), (std::vector<std::int64_t>{2 * kD, 8}));
  // Per MLP: 2 (D·8 + 8) + 2 (8·8 + 8) + (8·2D + 2D) with D = Dζ = 3.
  const std::int64_t per_mlp = 2 * (kD * 8 + 8) + 2 * (8 * 8 + 8) + (8 * 2 * kD + 2 * kD);
  EXPECT_EQ(priorlab::test::parameter_count(*prior), 2 * per_mlp);
  EXPECT_EQ(prior->log_prob(torch::randn({5, kD})).sizes(), (std::vector<std::int64_t>{5}));
  EXPECT_EQ(prior->sample(4).sizes(), (std::vector<std::int64_t>{4, kD}));
  EXPECT_THROW(make_vhp({{"layer", "convolution"}}), priorlab::Error);
}

TEST(Vhp, GatedConditionalsGiveExactLogDensityWithExactPosterior) {
  // The closed-form check above, through gated layers: exact for every K when the gates are
  // compensated (gate 0.5 and sigmoid(1.3)); a gate left uncompensated (h not divided by c)
  // shrinks both maps and must miss by far more than rounding.
  torch::manual_seed(5);
  const LinearGaussian g;
  const auto z = g.draw(200);
  const auto truth = g.log_density(z);
  for (double gate_bias : {0.0, 1.3}) {
    for (std::int64_t k : {1, 16}) {
      auto prior = gated_linear_vhp(k, g, gate_bias);
      EXPECT_LT((prior->log_prob(z) - truth).abs().max().item<double>(), 1e-10) << "gate bias " << gate_bias << ", K " << k;
    }
  }
  auto uncompensated = gated_linear_vhp(1, g, 0.0);
  {
    torch::NoGradGuard no_grad;
    auto p = params(*uncompensated);
    p.at("p_z.0.h.weight").mul_(0.5);  // the layer gives 0.5 ζ instead of ζ
  }
  EXPECT_GT((uncompensated->log_prob(z) - truth).abs().mean().item<double>(), 0.05);
}

TEST(Vhp, UpperPosteriorAndSettableK) {
  // upper_posterior() is q(ζ|z) itself: here the exact posterior N(W (z − b), S) written above.
  torch::manual_seed(3);
  const LinearGaussian g;
  const auto z = g.draw(50);
  auto prior = linear_vhp(1, g, 1.0, 1.0);
  const auto q = prior->upper_posterior(z);
  EXPECT_LT((q.mu - (z - g.b).matmul(g.posterior_map().t())).abs().max().item<double>(), 1e-12);
  EXPECT_LT((q.logvar - torch::log(torch::diag(g.posterior_cov()))).abs().max().item<double>(), 1e-12);
  // The collapse diagnostics' view of the same layer: its mean, and per dimension the closed-form
  // KL(N(m, s^2) || N(0, 1)) = 1/2 (s^2 + m^2 - 1 - log s^2), written out here.
  const auto layers = prior->upper_layers(z);
  ASSERT_EQ(layers.size(), 1u);
  EXPECT_EQ(layers[0].name, "zeta");
  EXPECT_EQ(layers[0].when_collapsed, "the prior is a single Gaussian");
  EXPECT_LT((layers[0].mean - q.mu).abs().max().item<double>(), 1e-12);
  const auto kl = 0.5 * (q.logvar.exp() + q.mu.pow(2) - 1 - q.logvar);
  EXPECT_LT((layers[0].kl - kl).abs().max().item<double>(), 1e-12);

  // K = 1 with a poor q: the gap to log p(z) is about KL(q || p(ζ|z)); raising K through the
  // interface (what loglik does) must shrink it.
  auto poor = linear_vhp(1, g, 0.5, 3.0);
  EXPECT_EQ(poor->bound_samples(), 1);
  torch::manual_seed(4);
  const auto zz = g.draw(2000);
  const double gap1 = average(g.log_density(zz) - poor->log_prob(zz));
  poor->set_bound_samples(500);
  EXPECT_EQ(poor->bound_samples(), 500);
  const double gap500 = average(g.log_density(zz) - poor->log_prob(zz));
  EXPECT_GT(gap1, 0.3);
  EXPECT_LT(gap500, 0.1 * gap1);
  EXPECT_THROW(poor->set_bound_samples(0), priorlab::Error);
}

TEST(Vhp, ClosedFormPriorHasNoKAndNoUpperLayer) {
  BuildContext ctx;
  ctx.latent_dim = kD;
  auto gaussian = priorlab::test::make<Prior>("gaussian", json::object(), ctx);
  EXPECT_EQ(gaussian->bound_samples(), 0);
  EXPECT_THROW(gaussian->set_bound_samples(10), priorlab::Error);
  EXPECT_FALSE(gaussian->upper_posterior(torch::randn({4, kD})).mu.defined());
  EXPECT_TRUE(gaussian->upper_layers(torch::randn({4, kD})).empty());
}

TEST(Vhp, BoundIsBelowLogDensityAndTightensWithK) {
  // q(ζ|z): the exact posterior mean shrunk by 0.8, variance doubled -> K = 1 gap ≈ KL(q || p(ζ|z))
  // ≈ 0.8 nats. Gaps g_K = bound_K(z) − log p(z) are paired per z, and every comparison below is
  // required to exceed 3 standard errors of the mean of the quantity compared.
  torch::manual_seed(2);
  const LinearGaussian g;
  const auto z = g.draw(4000);
  const auto truth = g.log_density(z);
  const auto g1 = linear_vhp(1, g, 0.8, 2.0)->log_prob(z) - truth;
  const auto g16 = linear_vhp(16, g, 0.8, 2.0)->log_prob(z) - truth;
  const auto g1000 = linear_vhp(1000, g, 0.8, 2.0)->log_prob(z) - truth;

  // Jensen: below log p(z) on average.
  EXPECT_LT(average(g1), -3 * standard_error(g1));
  EXPECT_LT(average(g16), -3 * standard_error(g16));
  EXPECT_LT(average(g1000), 3 * standard_error(g1000));  // tiny gap: not significantly above 0
  // Monotone in K on average.
  EXPECT_GT(average(g16 - g1), 3 * standard_error(g16 - g1));
  EXPECT_GT(average(g1000 - g16), 3 * standard_error(g1000 - g16));
  EXPECT_LT(average(g1), -0.3);  // a real gap at K = 1 (else the test would prove nothing)

  // K = 5000 within 0.05 nats of the closed form on average (fewer z: [5000, 500, D] doubles).
  const auto zs = z.slice(0, 0, 500);
  const auto g5000 = linear_vhp(5000, g, 0.8, 2.0)->log_prob(zs) - g.log_density(zs);
  EXPECT_LT(std::abs(average(g5000)), 0.05);
}

TEST(Vhp, SamplesFollowTheMarginal) {
  // z ~ p(z) = N(b, Σ). With n samples the standard error of mean component i is sqrt(Σ_ii / n)
  // and of the sample covariance entry ij sqrt((Σ_ii Σ_jj + Σ_ij²) / n) (Gaussian data); the
  // tolerance is 5 standard errors (n = 200000: about 0.02 for the largest entries). Returning
  // the mean of p(z|ζ) instead of a sample would give AAᵀ, off by diag s² >= 0.2.
  torch::manual_seed(3);
  const LinearGaussian g;
  auto prior = linear_vhp(16, g, 1.0, 1.0);
  const std::int64_t n = 200000;
  const auto z = prior->sample(n);
  ASSERT_EQ(z.scalar_type(), torch::kDouble);
  ASSERT_EQ(z.sizes(), (std::vector<std::int64_t>{n, kD}));
  const auto sigma = g.sigma();
  const auto m = z.mean(0);
  const auto centred = z - m;
  const auto cov = centred.t().matmul(centred) / static_cast<double>(n - 1);
  for (std::int64_t i = 0; i < kD; ++i) {
    const double sii = sigma[i][i].item<double>();
    EXPECT_NEAR(m[i].item<double>(), g.b[i].item<double>(), 5 * std::sqrt(sii / n)) << "mean " << i;
    for (std::int64_t j = 0; j < kD; ++j) {
      const double sjj = sigma[j][j].item<double>(), sij = sigma[i][j].item<double>();
      EXPECT_NEAR(cov[i][j].item<double>(), sij, 5 * std::sqrt((sii * sjj + sij * sij) / n)) << "cov " << i << j;
    }
  }
}

TEST(Vhp, LogVarianceClampApplies) {
  // A conditional log-variance of -30 is clamped to logvar_min = -4: with q exact in its mean and
  // A = 0 the bound is log N(z; b, e^-4 I) exactly (p(z|ζ) does not depend on ζ, weights = p(z|b)).
  auto prior = make_vhp({{"hidden", json::array()}, {"samples", 2}, {"logvar_min", -4.0}});
  prior->to(torch::kDouble);
  {
    torch::NoGradGuard no_grad;
    auto p = params(*prior);
    p.at("p_z.0.weight").zero_();
    p.at("p_z.0.bias").copy_(dbl({0.1, 0.2, 0.3, -30, -30, -30}, {2 * kD}));
    p.at("q_zeta.0.weight").zero_();
    p.at("q_zeta.0.bias").zero_();  // q = N(0, I) = p(ζ)
  }
  const auto z = dbl({0.1, 0.25, 0.2}, {1, kD});
  const double expected = -0.5 * (kD * (kLog2Pi - 4.0) + (0.0 + 0.0025 + 0.01) / std::exp(-4.0));
  EXPECT_NEAR(prior->log_prob(z).item<double>(), expected, 1e-9);
}

TEST(Vhp, StandardisedDensityIsTheLinearModelMovedAndScaled) {
  // standardise: the MLPs model u = (z - m) / s. Written with the exact linear-Gaussian
  // hierarchy in u (set_linear, exact q), the bound is exact for any K, and the change of
  // variables gives log p(z) = log p_u((z - m) / s) - sum_d log s_d, derived on paper.
  torch::manual_seed(5);
  const LinearGaussian g;
  auto prior = make_vhp({{"hidden", json::array()}, {"samples", 3}, {"zeta_dim", kZeta}, {"standardise", true}});
  prior->to(torch::kDouble);
  set_linear(*prior, g, 1.0, 1.0);
  const auto m = dbl({3.0, -2.0, 0.5}, {kD}), s = dbl({4.0, 0.5, 2.0}, {kD});
  {
    torch::NoGradGuard no_grad;
    auto buffers = prior->named_buffers();
    buffers["z_mean"].copy_(m);
    buffers["z_scale"].copy_(s);
    buffers["z_batches"].fill_(1);
  }
  prior->eval();  // no tracking: the buffers stay as written
  const auto z = m + s * g.draw(40);
  const auto truth = g.log_density((z - m) / s) - std::log(4.0 * 0.5 * 2.0);
  EXPECT_LT((prior->log_prob(z) - truth).abs().max().item<double>(), 1e-10);
  // Samples come back in z's units: their mean is m + s b.
  const auto mean = prior->sample(20000).mean(0);
  for (std::int64_t d = 0; d < kD; ++d) {
    const double sd = s[d].item<double>() * std::sqrt(g.sigma()[d][d].item<double>());
    EXPECT_NEAR(mean[d].item<double>(), (m[d] + s[d] * g.b[d]).item<double>(), 5 * sd / std::sqrt(20000.0));
  }
}

TEST(Vhp, StandardiseTracksTheTrainingBatches) {
  // The first training batch sets m and s (its mean and population std); later ones mix in 1%.
  auto prior = make_vhp({{"hidden", json::array({4})}, {"standardise", true}});
  prior->to(torch::kDouble);
  prior->train();
  const auto a = dbl({1, 10, 100, 3, 14, 96}, {2, kD}), b = dbl({5, 5, 5, 7, 7, 7}, {2, kD});
  prior->log_prob(a);
  auto buffers = prior->named_buffers();
  EXPECT_LT((buffers["z_mean"] - dbl({2, 12, 98}, {kD})).abs().max().item<double>(), 1e-12);
  EXPECT_LT((buffers["z_scale"] - dbl({1, 2, 2}, {kD})).abs().max().item<double>(), 1e-12);
  prior->log_prob(b);
  EXPECT_LT((buffers["z_mean"] - dbl({0.99 * 2 + 0.01 * 6, 0.99 * 12 + 0.01 * 6, 0.99 * 98 + 0.01 * 6}, {kD}))
                .abs().max().item<double>(), 1e-12);
  EXPECT_LT((buffers["z_scale"] - dbl({0.99 * 1 + 0.01, 0.99 * 2 + 0.01, 0.99 * 2 + 0.01}, {kD})).abs().max().item<double>(),
            1e-12);
  // Without gradients (evaluators, the collapse diagnostics) nothing is tracked.
  {
    torch::NoGradGuard no_grad;
    prior->log_prob(a * 1000);
  }
  EXPECT_LT((buffers["z_mean"] - dbl({0.99 * 2 + 0.01 * 6, 0.99 * 12 + 0.01 * 6, 0.99 * 98 + 0.01 * 6}, {kD}))
                .abs().max().item<double>(), 1e-12);
}

TEST(Vhp, FreeBitsChangeTheGradientOfDimensionsBelowTheFloorAndNotTheValue) {
  // upper_free_bits = lambda: the training gradient gains sum_j 1[mean KL_j < lambda] grad KL_j,
  // with KL_j = 1/2 (exp(lv_j) + mu_j^2 - 1 - lv_j) written out here; the value is the bound.
  torch::manual_seed(6);
  const LinearGaussian g;
  const auto z = g.draw(30);
  auto plain = linear_vhp(4, g, 0.3, 1.5);
  auto free = make_vhp({{"hidden", json::array()}, {"samples", 4}, {"zeta_dim", kZeta}, {"upper_free_bits", 0.5}});
  free->to(torch::kDouble);
  set_linear(*free, g, 0.3, 1.5);
  plain->train();
  free->train();
  torch::manual_seed(7);
  const auto v_plain = plain->log_prob(z).mean();
  torch::manual_seed(7);
  const auto v_free = free->log_prob(z).mean();
  EXPECT_EQ(v_plain.item<double>(), v_free.item<double>());
  v_plain.backward();
  v_free.backward();
  // The independent side: the closed-form KL of q(zeta|z) and which dimensions sit below 0.5.
  auto q = params(*free);
  const auto h = z.matmul(q.at("q_zeta.0.weight").t()) + q.at("q_zeta.0.bias");  // [B, 2 Dzeta]
  const auto mu = h.slice(1, 0, kZeta), lv = h.slice(1, kZeta);
  const auto kl = 0.5 * (lv.exp() + mu.pow(2) - 1 - lv);  // [B, Dzeta]
  const auto below = (kl.detach().mean(0) < 0.5).to(torch::kDouble);
  ASSERT_GT(below.sum().item<double>(), 0) << "the test needs a dimension under the floor";
  const auto extra = torch::autograd::grad({(kl * below).sum(-1).mean()}, {q.at("q_zeta.0.weight")})[0];
  const auto diff = q.at("q_zeta.0.weight").grad() - params(*plain).at("q_zeta.0.weight").grad();
  EXPECT_LT((diff - extra).abs().max().item<double>(), 1e-10);
  EXPECT_GT(extra.abs().max().item<double>(), 1e-3);
}

}  // namespace
