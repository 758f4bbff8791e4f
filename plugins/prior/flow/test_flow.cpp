// Prior "flow" against an independent reading of its equations: u = f(z) written here from the
// README (index tensors, not the plugin's slices) and evaluated on the prior's own parameters;
// the log-determinant against autograd's Jacobian; sample() as f⁻¹; and the density's mass
// on a grid in 2-D. Everything but the float32 round trip runs in double precision.
#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "test_util.hpp"

namespace {

using priorlab::BuildContext;
using priorlab::Prior;
using priorlab::test::json;
using Params = std::map<std::string, torch::Tensor>;

constexpr double kLog2Pi = 1.8378770664093453;

// Every test flow has hidden = [16, 16] (or [32, 32]) with the default leaky ReLU, so each of
// "s.<l>" and "t.<l>" is Linear, LeakyReLU, Linear, LeakyReLU, Linear: modules 0, 2 and 4.
std::shared_ptr<Prior> make_flow(std::int64_t latent, json options, torch::Dtype dtype = torch::kDouble) {
  BuildContext ctx;
  ctx.latent_dim = latent;
  auto prior = priorlab::test::make<Prior>("flow", options, ctx);
  prior->to(dtype);
  return prior;
}

torch::Tensor mlp(const Params& p, const std::string& name, torch::Tensor x) {
  for (int i : {0, 2, 4}) {
    const std::string key = name + "." + std::to_string(i);
    x = x.matmul(p.at(key + ".weight").t()) + p.at(key + ".bias");
    if (i < 4) x = torch::leaky_relu(x, 0.01);
  }
  return x;
}

/// u = f(z) for z [..., D]: layer l keeps a (the first ⌈D/2⌉ dimensions for even l, the rest for
/// odd l) and maps the other part b to (b − t) exp(−s), s = tanh(S_l(a)), t = T_l(a).
torch::Tensor f_by_hand(const Params& p, const torch::Tensor& z, std::int64_t layers) {
  const std::int64_t d = z.size(-1), h = (d + 1) / 2, last = z.dim() - 1;
  const auto first = torch::arange(0, h, torch::kLong), second = torch::arange(h, d, torch::kLong);
  auto u = z;
  for (std::int64_t l = 0; l < layers; ++l) {
    const auto& keep = l % 2 == 0 ? first : second;
    const auto& move = l % 2 == 0 ? second : first;
    const auto a = u.index_select(last, keep), b = u.index_select(last, move);
    const auto s = torch::tanh(mlp(p, "s." + std::to_string(l), a));
    const auto t = mlp(p, "t." + std::to_string(l), a);
    u = u.index_copy(last, move, (b - t) * torch::exp(-s));
  }
  return u;
}

/// Moves a freshly initialised flow away from the identity: each S_l's output layer gains a
/// factor `gain` and a bias `s_bias`, each T_l's output layer the factor `gain`, so that the
/// scales spread over much of tanh's range (1/e, e) and the shifts depend visibly on a.
void bend(Prior& prior, std::int64_t layers, double s_bias, double gain) {
  torch::NoGradGuard no_grad;
  auto p = priorlab::test::named_params(prior);
  for (std::int64_t l = 0; l < layers; ++l) {
    const std::string s = "s." + std::to_string(l) + ".4", t = "t." + std::to_string(l) + ".4";
    p.at(s + ".weight").mul_(gain);
    p.at(s + ".bias").mul_(gain).add_(s_bias);
    p.at(t + ".weight").mul_(gain);
    p.at(t + ".bias").mul_(gain);
  }
}

/// log |det J| of z -> f_by_hand(z) at one point z [D], J built row by row with autograd.
double autograd_log_det(const Params& p, const torch::Tensor& point, std::int64_t layers) {
  const auto z = point.detach().clone().requires_grad_(true);
  const auto u = f_by_hand(p, z, layers);
  const std::int64_t d = z.size(0);
  auto jacobian = torch::zeros({d, d}, torch::kDouble);
  for (std::int64_t j = 0; j < d; ++j)
    jacobian[j].copy_(torch::autograd::grad({u[j]}, {z}, {}, /*retain_graph=*/true)[0]);  // row j: ∂u_j/∂z
  return std::get<1>(torch::slogdet(jacobian)).item<double>();
}

TEST(Flow, LogDeterminantMatchesAutogradsJacobian) {
  // log p(z) = log N(f(z); 0, I) + log |det ∂f/∂z|, with f written out here and the determinant
  // from the full Jacobian: for D = 2 and D = 5 (an odd D: parts of 3 and 2).
  torch::manual_seed(3);
  for (std::int64_t d : {2, 5}) {
    auto prior = make_flow(d, {{"hidden", {16, 16}}});
    bend(*prior, 3, 0.3, 3.0);
    const auto p = priorlab::test::named_params(*prior);
    const auto points = torch::randn({4, d}, torch::kDouble) * 1.5;
    const auto got = prior->log_prob(points);
    ASSERT_EQ(got.sizes(), (std::vector<std::int64_t>{4}));
    double largest = 0;
    for (std::int64_t i = 0; i < 4; ++i) {
      const double log_det = autograd_log_det(p, points[i], 3);
      const auto u = f_by_hand(p, points[i], 3);
      const double want = -0.5 * (d * kLog2Pi + u.pow(2).sum().item<double>()) + log_det;
      EXPECT_NEAR(got[i].item<double>(), want, 1e-10) << "D = " << d << ", point " << i;
      largest = std::max(largest, std::abs(log_det));
    }
    EXPECT_GT(largest, 0.3) << "the bent flow should be far from volume-preserving (D = " << d << ")";
  }
}

TEST(Flow, SampleIsTheInverseOfTheFlow) {
  // sample(n) draws u ~ N(0, I) from the global generator and returns f⁻¹(u): drawing the same u
  // here after the same seed, f(sample) must give u back.
  for (std::int64_t d : {2, 5}) {
    torch::manual_seed(5);
    auto prior = make_flow(d, {{"hidden", {16, 16}}});
    bend(*prior, 3, 0.3, 3.0);
    const auto p = priorlab::test::named_params(*prior);
    torch::NoGradGuard no_grad;
    torch::manual_seed(11);
    const auto u = torch::randn({500, d}, torch::kDouble);
    torch::manual_seed(11);
    const auto z = prior->sample(500);
    ASSERT_EQ(z.sizes(), (std::vector<std::int64_t>{500, d}));
    EXPECT_EQ(z.scalar_type(), torch::kDouble);
    EXPECT_GT((z - u).abs().max().item<double>(), 0.1);  // not the identity
    EXPECT_LT((f_by_hand(p, z, 3) - u).abs().max().item<double>(), 1e-10) << "D = " << d;
  }
}

TEST(Flow, Float32RoundTripHoldsTo1e5) {
  // The same in the pipeline's default float32: f(f⁻¹(u)) = u to 1e-5.
  torch::manual_seed(6);
  auto prior = make_flow(4, {{"hidden", {16, 16}}}, torch::kFloat);
  bend(*prior, 3, 0.3, 3.0);
  const auto p = priorlab::test::named_params(*prior);
  torch::NoGradGuard no_grad;
  torch::manual_seed(12);
  const auto u = torch::randn({500, 4});
  torch::manual_seed(12);
  const auto z = prior->sample(500);
  EXPECT_EQ(z.scalar_type(), torch::kFloat);
  EXPECT_LT((f_by_hand(p, z, 3) - u).abs().max().item<double>(), 1e-5);
}

TEST(Flow, DensityIntegratesToOneIn2D) {
  // ∫ p(z) dz = 1 by the midpoint rule on a 600 x 600 grid over the range of 1e5 samples widened
  // by 4 on each side. Measured on this flow and seven other seeds: |mass − 1| ≤ 3e-6 (and the
  // same at 1000 x 1000). With the log-determinant's sign flipped the mass here is 0.84, with it
  // counted once per dimension (the reference's log_prob) 1.66.
  torch::manual_seed(4);
  auto prior = make_flow(2, {{"hidden", {32, 32}}});
  bend(*prior, 3, 0.4, 3.0);
  torch::NoGradGuard no_grad;
  const auto samples = prior->sample(100000);
  const auto lo = std::get<0>(samples.min(0)) - 4, hi = std::get<0>(samples.max(0)) + 4;  // [2]
  const std::int64_t n = 600, rows = 50;
  const auto h = (hi - lo) / n;                                                          // [2]
  const auto centres = torch::arange(n, torch::kDouble).unsqueeze(1).add(0.5) * h + lo;  // [n, 2]
  const auto x = centres.select(1, 0), y = centres.select(1, 1);                         // [n] each
  double mass = 0;
  for (std::int64_t i = 0; i < n; i += rows) {
    const auto xs = x.narrow(0, i, rows).unsqueeze(1).expand({rows, n});
    const auto grid = torch::stack({xs, y.unsqueeze(0).expand({rows, n})}, -1);  // [rows, n, 2]
    mass += prior->log_prob(grid).exp().sum().item<double>();
  }
  mass *= (h[0] * h[1]).item<double>();
  EXPECT_NEAR(mass, 1.0, 1e-3);
}

TEST(Flow, ShapesParametersAndDefaults) {
  // Defaults: 3 coupling layers, S and T MLPs of hidden [256, 256] (leaky ReLU). D = 5: even
  // layers keep 3 dimensions and move 2, the odd layer keeps 2 and moves 3.
  auto prior = make_flow(5, json::object(), torch::kFloat);
  const auto p = priorlab::test::named_params(*prior);
  EXPECT_EQ(p.size(), 3u * 2u * 6u);  // 3 layers x (S, T) x 3 Linear x (weight, bias)
  EXPECT_EQ(p.at("s.0.0.weight").sizes(), (std::vector<std::int64_t>{256, 3}));
  EXPECT_EQ(p.at("s.0.2.weight").sizes(), (std::vector<std::int64_t>{256, 256}));
  EXPECT_EQ(p.at("s.0.4.weight").sizes(), (std::vector<std::int64_t>{2, 256}));
  EXPECT_EQ(p.at("t.1.0.weight").sizes(), (std::vector<std::int64_t>{256, 2}));
  EXPECT_EQ(p.at("t.1.4.weight").sizes(), (std::vector<std::int64_t>{3, 256}));
  EXPECT_EQ(p.at("t.2.4.bias").sizes(), (std::vector<std::int64_t>{2}));
  EXPECT_EQ(p.count("s.3.0.weight"), 0u);

  EXPECT_EQ(prior->log_prob(torch::randn({4, 6, 5})).sizes(), (std::vector<std::int64_t>{4, 6}));
  EXPECT_EQ(prior->log_prob(torch::randn({5})).dim(), 0);
  EXPECT_EQ(prior->sample(7).sizes(), (std::vector<std::int64_t>{7, 5}));
  EXPECT_EQ(prior->bound_samples(), 0);  // exact, no K

  auto deeper = make_flow(2, {{"layers", 4}, {"hidden", {8}}}, torch::kFloat);
  const auto q = priorlab::test::named_params(*deeper);
  EXPECT_EQ(q.at("t.3.2.weight").sizes(), (std::vector<std::int64_t>{1, 8}));
}

TEST(Flow, SamplesRepeatFromTheSeed) {
  auto prior = make_flow(3, {{"hidden", {8}}}, torch::kFloat);
  torch::manual_seed(9);
  const auto a = prior->sample(40);
  torch::manual_seed(9);
  const auto b = prior->sample(40);
  EXPECT_TRUE(torch::equal(a, b));
  EXPECT_EQ(a.scalar_type(), torch::kFloat);
}

TEST(Flow, GradientsReachEveryParameter) {
  auto prior = make_flow(3, {{"hidden", {8, 8}}}, torch::kFloat);
  prior->log_prob(torch::randn({10, 3})).sum().backward();
  for (const auto& item : prior->named_parameters()) {
    ASSERT_TRUE(item.value().grad().defined()) << item.key();
    EXPECT_GT(item.value().grad().abs().sum().item<double>(), 0.0) << item.key();
  }
}

TEST(Flow, NeedsTwoLatentDimensions) {
  try {
    make_flow(1, json::object());
    FAIL() << "no error";
  } catch (const priorlab::Error& e) {
    EXPECT_EQ(e.where(), "plugin 'flow': /test");
    EXPECT_NE(e.message().find("at least 2"), std::string::npos) << e.what();
  }
  EXPECT_EQ(priorlab::test::error_place([] { make_flow(0, json::object()); }), "plugin 'flow': /test");
}

}  // namespace
