// Objective "free_bits": its loss against the elbo objective where the clamp is off or inactive,
// against a hand computation where some groups are below lambda, its gradient (none from the rate
// of a group below lambda), its reported terms (the unclamped rate), and its refusals (groups not
// dividing D; groups > 1 with a prior that does not factorise).
#include <algorithm>
#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "test_util.hpp"

namespace {

using priorlab::BuildContext;
using priorlab::DiagGaussian;
using priorlab::Network;
using priorlab::Objective;
using priorlab::ObjectiveTerms;
using priorlab::Prior;
using priorlab::test::json;

constexpr std::int64_t kB = 3, kD = 6, kS = 3;  // batch, latent, data
const double kLog2Pi = std::log(2 * M_PI);

// A network whose encoder output is fixed: mu (a parameter, so its gradient can be read) and
// logvar, both [B, D], whatever x is; decode(z) = z Wᵀ [B, S]; p(x|z) = N(x; z Wᵀ, I).
class FixedEncoder : public Network {
 public:
  FixedEncoder(const torch::Tensor& mu, const torch::Tensor& logvar, const torch::Tensor& w) {
    mu_ = register_parameter("mu", mu.clone());
    logvar_ = register_buffer("logvar", logvar.clone());
    w_ = register_buffer("w", w.clone());
  }
  std::int64_t latent_dim() const override { return mu_.size(1); }
  DiagGaussian encode(const torch::Tensor&) override { return {mu_, logvar_}; }
  torch::Tensor decode(const torch::Tensor& z) override { return z.matmul(w_.t()); }
  torch::Tensor log_likelihood(const torch::Tensor& x, const torch::Tensor& params) override {
    return -0.5 * ((x - params).pow(2) + kLog2Pi).sum(-1);
  }
  torch::Tensor mean(const torch::Tensor& params) override { return params; }
  torch::Tensor& mu() { return mu_; }

 private:
  torch::Tensor mu_, logvar_, w_;
};

using Table = std::vector<std::vector<double>>;

torch::Tensor tensor(const Table& t) {
  std::vector<double> flat;
  for (const auto& row : t) flat.insert(flat.end(), row.begin(), row.end());
  return torch::tensor(flat, torch::kDouble).view({static_cast<std::int64_t>(t.size()), -1});
}

// The hand-built case. Groups of two dimensions (groups = 3):
//   dims 0, 1: q = N(0, 1) = p, so rate_bj = 0 for every draw: group mean 0, below lambda;
//   dims 2, 3: means ±0.02..0.06, unit variance: rate_bj = mu ε + mu²/2, group mean ~0.01;
//   dims 4, 5: means near 3 and −2.5, variances 0.30 and 0.50: rate ~4.5 and ~3 nats.
const Table kMu{{0, 0, 0.02, -0.04, 3.0, -2.5}, {0, 0, -0.03, 0.05, 2.7, -2.3}, {0, 0, 0.06, 0.01, 3.3, -2.6}};
const Table kLogvar{{0, 0, 0, 0, std::log(0.3), std::log(0.5)},
                    {0, 0, 0, 0, std::log(0.3), std::log(0.5)},
                    {0, 0, 0, 0, std::log(0.3), std::log(0.5)}};
const Table kW{{0.5, -0.3, 0.8, 0.1, 1.0, -0.4}, {0.2, 0.7, -0.6, 0.4, 0.3, 0.9}, {-0.5, 0.1, 0.2, -0.8, 0.6, 0.5}};
const Table kX{{1.2, -0.7, 0.4}, {0.3, 0.9, -1.1}, {-0.6, 0.2, 1.5}};

std::shared_ptr<FixedEncoder> fixed_net(const Table& mu = kMu, const Table& w = kW) {
  return std::make_shared<FixedEncoder>(tensor(mu), tensor(kLogvar), tensor(w));
}

std::shared_ptr<Objective> free_bits(double lambda, std::int64_t groups, std::int64_t latent = kD) {
  BuildContext ctx;
  ctx.latent_dim = latent;
  return priorlab::test::make<Objective>("free_bits", {{"lambda", lambda}, {"groups", groups}}, ctx);
}

std::shared_ptr<Objective> elbo() { return priorlab::test::make<Objective>("elbo"); }

std::shared_ptr<Prior> prior(const std::string& name, std::int64_t latent = kD, json options = json::object()) {
  BuildContext ctx;
  ctx.latent_dim = latent;
  auto p = priorlab::test::make<Prior>(name, options, ctx);
  p->to(torch::kDouble);
  return p;
}

// The objective's terms with the global generator at `seed` when it starts (it draws ε there).
ObjectiveTerms run(Objective& objective, Network& net, Prior& p, const torch::Tensor& x, double beta,
                   std::uint64_t seed) {
  torch::manual_seed(seed);
  return objective.compute(x, net, p, beta);
}

// The ε that sample_diag_gaussian draws for a [B, D] posterior after torch::manual_seed(seed).
Table noise(std::uint64_t seed) {
  torch::manual_seed(seed);
  const auto e = torch::randn({kB, kD}, torch::kDouble);
  Table t(kB, std::vector<double>(kD));
  for (std::int64_t b = 0; b < kB; ++b)
    for (std::int64_t j = 0; j < kD; ++j) t[b][j] = e[b][j].item<double>();
  return t;
}

struct Hand {
  double loss = 0;
  std::vector<double> distortion, rate, group_mean;
  Table z;
};

// Written out with scalars, for q = N(mu, e^lv) and p = N(0, 1) per dimension:
//   z_bj    = mu_bj + e^{lv_bj / 2} ε_bj
//   rate_bj = log N(z; mu, e^lv) − log N(z; 0, 1) = ½ (z_bj² − ε_bj² − lv_bj)
//   dist_b  = ½ Σ_s (x_bs − Σ_j W_sj z_bj)² + ½ S log 2π
//   R_g     = (1/B) Σ_b Σ_{j∈g} rate_bj,  g = contiguous blocks of D / G dimensions
//   loss    = (1/B) Σ_b dist_b + β Σ_g max(λ, R_g)
Hand by_hand(const Table& eps, std::int64_t groups, double lambda, double beta, const Table& mu = kMu) {
  Hand h;
  h.z = Table(kB, std::vector<double>(kD));
  const std::int64_t g_count = groups == 0 ? kD : groups, size = kD / g_count;
  h.group_mean.assign(g_count, 0.0);
  double mean_distortion = 0;
  for (std::int64_t b = 0; b < kB; ++b) {
    double rate = 0;
    for (std::int64_t j = 0; j < kD; ++j) {
      const double lv = kLogvar[b][j], e = eps[b][j];
      const double z = h.z[b][j] = mu[b][j] + std::exp(lv / 2) * e;
      const double r = 0.5 * (z * z - e * e - lv);
      rate += r;
      h.group_mean[j / size] += r / kB;
    }
    double dist = 0.5 * kS * kLog2Pi;
    for (std::int64_t s = 0; s < kS; ++s) {
      double mean = 0;
      for (std::int64_t j = 0; j < kD; ++j) mean += kW[s][j] * h.z[b][j];
      dist += 0.5 * (kX[b][s] - mean) * (kX[b][s] - mean);
    }
    h.rate.push_back(rate);
    h.distortion.push_back(dist);
    mean_distortion += dist / kB;
  }
  double clamped = 0;
  for (double r : h.group_mean) clamped += std::max(lambda, r);
  h.loss = mean_distortion + beta * clamped;
  return h;
}

std::string message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const priorlab::Error& e) {
    return e.where() + " | " + e.message();
  }
  return "no error";
}

TEST(FreeBits, LambdaZeroIsTheElboForAnyGrouping) {
  // λ = 0 is the reference's "no constraint" (if hps.kl_min > 0): the elbo objective, term for
  // term, on a real network and prior with the same draws.
  torch::manual_seed(1);
  BuildContext nctx;
  nctx.data.shape = {5};
  auto net = priorlab::test::make<Network>("mlp", {{"latent_dim", 4}, {"hidden", {8}}, {"activation", "tanh"}}, nctx);
  net->to(torch::kDouble);
  auto p = prior("gaussian", 4);
  const auto x = torch::rand({16, 5}, torch::kDouble);
  for (std::int64_t groups : {1, 0, 2}) {
    for (double beta : {1.0, 0.3}) {
      const auto a = run(*free_bits(0.0, groups, 4), *net, *p, x, beta, 7);
      const auto b = run(*elbo(), *net, *p, x, beta, 7);
      EXPECT_NEAR(a.loss.item<double>(), b.loss.item<double>(), 1e-12) << groups << " " << beta;
      EXPECT_TRUE(torch::allclose(a.rate, b.rate, 0, 1e-12));
      EXPECT_TRUE(torch::allclose(a.distortion, b.distortion, 0, 1e-12));
      EXPECT_TRUE(torch::allclose(a.squared_error, b.squared_error, 0, 1e-12));
    }
  }
}

TEST(FreeBits, ClampAboveEveryGroupIsTheElbo) {
  // Every dimension's batch-mean rate is well above λ = 0.05, so max(λ, R_g) = R_g and
  // β Σ_g R_g = β (1/B) Σ_b rate_b: the elbo's loss for any grouping (the clamped code path).
  const Table far{{5.0, -5.2, 4.8, -5.1, 4.0, -3.5}, {5.3, -4.9, 5.1, -4.7, 4.2, -3.3}, {4.7, -5.0, 5.2, -4.9, 3.8, -3.6}};
  auto net = fixed_net(far);
  auto p = prior("gaussian");
  const auto x = tensor(kX);
  const auto per_dim = by_hand(noise(5), 0, 0.0, 1.0, far).group_mean;
  ASSERT_GT(*std::min_element(per_dim.begin(), per_dim.end()), 0.5);  // the premise
  for (std::int64_t groups : {0, 1, 2, 3, 6}) {
    const auto a = run(*free_bits(0.05, groups), *net, *p, x, 0.8, 5);
    const auto b = run(*elbo(), *net, *p, x, 0.8, 5);
    EXPECT_NEAR(a.loss.item<double>(), b.loss.item<double>(), 1e-10) << "groups " << groups;
  }
}

TEST(FreeBits, LossIsTheClampedGroupSumByHand) {
  auto net = fixed_net();
  auto p = prior("gaussian");
  const auto x = tensor(kX);
  const double beta = 0.7;
  const auto eps = noise(11);
  // The premise: with λ = 0.25 and groups of two, groups 0 and 1 are below λ and group 2 above.
  const auto pairs = by_hand(eps, 3, 0.25, beta).group_mean;
  EXPECT_EQ(pairs[0], 0.0);
  EXPECT_LT(std::abs(pairs[1]), 0.1);
  EXPECT_GT(pairs[2], 2.0);
  struct Case {
    std::int64_t groups;
    double lambda;
  };
  // Pairs; one per dimension (0); halves {0,1,2} (~0) and {3,4,5} (above); the total (above λ,
  // then clamped by λ = 10).
  for (const Case c : {Case{3, 0.25}, Case{0, 0.25}, Case{2, 0.25}, Case{1, 0.25}, Case{1, 10.0}}) {
    const Hand h = by_hand(eps, c.groups, c.lambda, beta);
    const auto t = run(*free_bits(c.lambda, c.groups), *net, *p, x, beta, 11);
    EXPECT_NEAR(t.loss.item<double>(), h.loss, 1e-12) << "groups " << c.groups << ", lambda " << c.lambda;
    for (std::int64_t b = 0; b < kB; ++b) {
      EXPECT_NEAR(t.rate[b].item<double>(), h.rate[b], 1e-12);
      EXPECT_NEAR(t.distortion[b].item<double>(), h.distortion[b], 1e-12);
    }
  }
  // The clamp matters: for pairs at λ = 0.25 the loss exceeds the elbo's by β (2λ − R_0 − R_1).
  const Hand h = by_hand(eps, 3, 0.25, beta);
  const auto e = run(*elbo(), *net, *p, x, beta, 11);
  EXPECT_NEAR(h.loss - e.loss.item<double>(), beta * (0.5 - pairs[0] - pairs[1]), 1e-12);
}

TEST(FreeBits, GroupBelowLambdaGetsNoGradientFromTheRate) {
  // Decoder columns of dimensions 0-3 set to 0: their means reach the loss only through the rate.
  // In the elbo, ∂/∂mu_bj of β (1/B) Σ_b rate_b is β z_bj / B (log q(z|x) does not depend on mu
  // under z = mu + σε, and −log N(z; 0, 1) has derivative z). With free bits, groups 0 and 1 are
  // below λ, so the gradient is exactly 0; group 2 is above λ and keeps the elbo's gradient.
  Table w = kW;
  for (auto& row : w)
    for (std::int64_t j = 0; j < 4; ++j) row[j] = 0;
  const double beta = 0.7;
  auto p = prior("gaussian");
  const auto x = tensor(kX);
  const Hand h = by_hand(noise(13), 3, 0.25, beta);
  ASSERT_LT(h.group_mean[1], 0.25);
  ASSERT_GT(h.group_mean[2], 0.25);

  auto fb_net = fixed_net(kMu, w);
  run(*free_bits(0.25, 3), *fb_net, *p, x, beta, 13).loss.backward();
  auto elbo_net = fixed_net(kMu, w);
  run(*elbo(), *elbo_net, *p, x, beta, 13).loss.backward();
  const auto fb = fb_net->mu().grad(), el = elbo_net->mu().grad();
  for (std::int64_t b = 0; b < kB; ++b) {
    for (std::int64_t j = 0; j < 4; ++j) {
      EXPECT_EQ(fb[b][j].item<double>(), 0.0) << b << "," << j;
      EXPECT_NEAR(el[b][j].item<double>(), beta * h.z[b][j] / kB, 1e-14) << b << "," << j;
    }
    for (std::int64_t j = 4; j < kD; ++j) EXPECT_NEAR(fb[b][j].item<double>(), el[b][j].item<double>(), 1e-13);
  }

  // With the full decoder, the rate's share of the gradient (β = 0.7 minus β = 0, same draws)
  // is exactly 0 for dimensions 0-3, and not for 4-5.
  auto at = [&](double b) {
    auto net = fixed_net();
    run(*free_bits(0.25, 3), *net, *p, x, b, 13).loss.backward();
    return net->mu().grad().clone();
  };
  const auto rate_share = at(beta) - at(0.0);
  EXPECT_EQ(rate_share.narrow(1, 0, 4).abs().max().item<double>(), 0.0);
  EXPECT_GT(rate_share.narrow(1, 4, 2).abs().min().item<double>(), 1e-3);
}

TEST(FreeBits, ReportedRateIsTheUnclampedRate) {
  // λ = 1000 clamps every group: the loss is mean distortion + β G λ, but the reported rate is
  // still log q(z|x) − log p(z) per example, as the elbo reports it (and by hand).
  auto net = fixed_net();
  auto p = prior("gaussian");
  const auto x = tensor(kX);
  const double beta = 0.5;
  const auto t = run(*free_bits(1000.0, 3), *net, *p, x, beta, 17);
  const auto e = run(*elbo(), *net, *p, x, beta, 17);
  const Hand h = by_hand(noise(17), 3, 1000.0, beta);
  EXPECT_NEAR(t.loss.item<double>(), e.distortion.mean().item<double>() + beta * 3 * 1000.0, 1e-10);
  EXPECT_TRUE(torch::allclose(t.rate, e.rate, 0, 1e-12));
  EXPECT_TRUE(torch::allclose(t.distortion, e.distortion, 0, 1e-12));
  EXPECT_TRUE(torch::allclose(t.squared_error, e.squared_error, 0, 1e-12));
  for (std::int64_t b = 0; b < kB; ++b) EXPECT_NEAR(t.rate[b].item<double>(), h.rate[b], 1e-12);
  EXPECT_LT(t.rate.max().item<double>(), 100.0);  // not λ
}

TEST(FreeBits, GroupsMustDivideTheLatentDimension) {
  using priorlab::test::error_place;
  // Known D (the pipeline passes the network's): refused when built.
  EXPECT_EQ(error_place([] { free_bits(0.25, 4); }), "plugin 'free_bits': /test/options/groups");
  EXPECT_EQ(error_place([] { free_bits(0.25, 12); }), "plugin 'free_bits': /test/options/groups");
  const auto msg = message_of([] { free_bits(0.25, 4); });
  EXPECT_NE(msg.find("4 groups"), std::string::npos) << msg;
  EXPECT_NE(msg.find("D = 6"), std::string::npos) << msg;
  for (std::int64_t ok : {0, 1, 2, 3, 6}) EXPECT_EQ(error_place([&] { free_bits(0.25, ok); }), "none") << ok;
  // D unknown when built: refused at the first compute, with the same JSON path.
  auto late = free_bits(0.25, 4, 0);
  auto net = fixed_net();
  auto p = prior("gaussian");
  EXPECT_EQ(error_place([&] { late->compute(tensor(kX), *net, *p, 1.0); }), "/test/options/groups");
  // A negative λ or group count is refused by the option declaration.
  EXPECT_EQ(error_place([] { free_bits(-0.1, 1); }), "/test/options/lambda");
  EXPECT_EQ(error_place([] { free_bits(0.25, -1); }), "/test/options/groups");
}

TEST(FreeBits, PriorThatDoesNotFactoriseNeedsOneGroup) {
  auto net = fixed_net();
  const auto x = tensor(kX);
  const double beta = 0.6;
  torch::manual_seed(2);
  auto mog = prior("mog", kD, {{"components", 4}});
  auto vhp = prior("vhp", kD, {{"hidden", {8}}, {"samples", 2}});
  for (auto* p : {mog.get(), vhp.get()}) {
    ASSERT_FALSE(p->log_prob_per_dimension(torch::zeros({2, kD}, torch::kDouble)).defined());
    for (std::int64_t groups : {0, 2, 3}) {
      auto objective = free_bits(0.25, groups);
      EXPECT_EQ(priorlab::test::error_place([&] { objective->compute(x, *net, *p, beta); }), "/test/options/groups");
      const auto msg = message_of([&] { objective->compute(x, *net, *p, beta); });
      EXPECT_NE(msg.find("factorise"), std::string::npos) << msg;
      EXPECT_NE(msg.find("groups: 1"), std::string::npos) << msg;
    }
    // One group clamps the total rate from log_prob: loss = elbo − β r̄ + β max(λ, r̄), with r̄
    // the batch-mean rate the elbo reports for the same draws (ζ's too, for vhp).
    const auto e = run(*elbo(), *net, *p, x, beta, 19);
    const double r = e.rate.mean().item<double>();
    for (double lambda : {0.05, r + 1.0, 50.0}) {
      const auto t = run(*free_bits(lambda, 1), *net, *p, x, beta, 19);
      EXPECT_NEAR(t.loss.item<double>(), e.loss.item<double>() - beta * r + beta * std::max(lambda, r), 1e-10)
          << lambda;
      EXPECT_TRUE(torch::allclose(t.rate, e.rate, 0, 1e-12));
    }
    // λ = 0 is the elbo, with any grouping and any prior.
    EXPECT_NEAR(run(*free_bits(0.0, 3), *net, *p, x, beta, 19).loss.item<double>(), e.loss.item<double>(), 1e-12);
  }
}

}  // namespace
