// Evaluator "loglik" against the closed-form log p(x) of a linear-Gaussian VAE.
#include <cmath>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "linear_gaussian_vae.hpp"
#include "test_util.hpp"

namespace {

using priorlab::BuildContext;
using priorlab::Evaluator;
using priorlab::Prior;
using priorlab::test::json;
using priorlab::test::LinearGaussianVae;
using priorlab::test::VectorDataset;

std::shared_ptr<Evaluator> loglik(json options) {
  BuildContext ctx;
  ctx.data.shape = {LinearGaussianVae::kN};
  ctx.latent_dim = LinearGaussianVae::kD;
  return priorlab::test::make<Evaluator>("loglik", options, ctx);
}

std::shared_ptr<Prior> prior(const std::string& name, json options = json::object()) {
  BuildContext ctx;
  ctx.latent_dim = LinearGaussianVae::kD;
  auto p = priorlab::test::make<Prior>(name, options, ctx);
  p->to(torch::kDouble);
  return p;
}

struct Model {
  LinearGaussianVae vae;
  torch::Tensor x;
  VectorDataset data;
  double truth;
  Model(double mean_scale, double var_scale, std::int64_t n)
      : vae(mean_scale, var_scale), x((torch::manual_seed(5), vae.draw(n))), data(x), truth(vae.log_marginal(x).mean().item<double>()) {}
};

std::map<std::string, double> run(Model& s, Prior& p, json options) {
  torch::manual_seed(7);
  return loglik(options)->evaluate(priorlab::test::eval_context(&s.vae, &p, &s.data)).metrics;
}

// The poor proposal of the tests below: the exact posterior N(m, P) (P diagonal) with its mean
// shrunk to 0.8 m and its variance tripled, v = 3P. The ELBO is then below log p(x) by
// KL(q || p(z|x)) = sum_j 0.5 (v/P - 1 - log(v/P) + d_j^2/P) >= 2 * 0.5 (2 - log 3) = 0.90.
constexpr double kMeanScale = 0.8, kVarScale = 3.0;

// What an S-sample estimate of the mean log p(x) over s's first n examples should give, derived
// independently of the evaluator: with r = w / p(x) = N(z; m, P) / N(z; 0.8 m, v),
// E_q[r^2] = prod_j v_j / sqrt(P_j (2 v_j - P_j)) * exp(d_j^2 / (2 v_j - P_j)), d = 0.2 m
// (a Gaussian integral; finite since 2v > P). By the delta method the log of an S-sample mean has
// bias -Var(r) / (2S) and standard deviation sqrt(Var(r) / S) per example; their mean over n
// examples has the bias's mean and standard error sqrt(sum_i Var_i / S) / n. (With the mean
// shrunk to 0.5 m instead, d^2 / (2v - P) outgrows the data's spread and a few examples have
// Var(r) ~ 1e6: no S = 5000 estimate of those has a stated error.)
struct Expected {
  double value, standard_error, worst_var_over_s;
};
Expected expected_estimate(const Model& s, std::int64_t S, std::int64_t n) {
  LinearGaussianVae exact;
  const auto x = s.x.slice(0, 0, n);
  const auto mu = exact.encode(x).mu;                 // [n, d]
  const auto P = torch::diag(exact.posterior_cov());  // [d]
  const auto v = kVarScale * P, d = (1 - kMeanScale) * mu;
  const auto var = (v / torch::sqrt(P * (2 * v - P)) * torch::exp(d.pow(2) / (2 * v - P))).prod(1) - 1;  // [n]
  const double sd = static_cast<double>(S);
  return {exact.log_marginal(x).mean().item<double>() - (var / (2 * sd)).mean().item<double>(),
          (torch::sqrt(var.sum() / sd) / static_cast<double>(n)).item<double>(), var.max().item<double>() / sd};
}

TEST(Loglik, MatchesClosedFormWithinItsDerivedError) {
  // With S = 5000 the estimate is within 4 derived standard errors (< 0.01 nats) of log p(x)
  // less its derived bias, while the ELBO from the same draws is 0.9 nats or more below.
  Model s(kMeanScale, kVarScale, 200);
  auto p = prior("gaussian");
  const auto m = run(s, *p, {{"samples", 5000}});
  const Expected e = expected_estimate(s, 5000, 200);
  ASSERT_LT(e.worst_var_over_s, 0.05) << "the delta method holds for every example";
  EXPECT_LT(4 * e.standard_error, 0.01);
  EXPECT_NEAR(-m.at("nll"), e.value, 4 * e.standard_error) << "truth " << s.truth;
  EXPECT_LT(m.at("elbo"), s.truth - 0.85);
  EXPECT_NEAR(m.at("elbo"), -(m.at("rate") + m.at("distortion")), 1e-9);
  EXPECT_EQ(m.at("examples"), 200);
  EXPECT_EQ(m.at("prior_samples"), 0);
}

TEST(Loglik, ExactPosteriorIsExactWithOneSample) {
  Model s(1.0, 1.0, 50);
  auto p = prior("gaussian");
  const auto m = run(s, *p, {{"samples", 1}});
  EXPECT_NEAR(-m.at("nll"), s.truth, 1e-9);
  EXPECT_NEAR(m.at("elbo"), s.truth, 1e-9);
}

TEST(Loglik, PerExampleCsvHoldsEachExamplesClosedFormLogLikelihoodInOrder) {
  // With the exact posterior one sample is exact for every example: each row's log p(x) and ELBO
  // equal that example's closed-form log marginal, rate + distortion = -ELBO, and the rows are the
  // split's examples in order. Chunks of 7 do not change a row.
  Model s(1.0, 1.0, 23);
  auto p = prior("gaussian");
  priorlab::test::TempDir dir;
  torch::manual_seed(7);
  const auto r = loglik({{"samples", 1}, {"batch_size", 7}})
                     ->evaluate(priorlab::test::eval_context(&s.vae, p.get(), &s.data, dir.str()));
  EXPECT_EQ(r.artefacts, std::vector<std::string>{"loglik_per_example.csv"});
  std::ifstream in(dir.path() / "loglik_per_example.csv");
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line, "index,log_px,elbo,rate,distortion");
  const auto truth = s.vae.log_marginal(s.x);
  double mean = 0;
  std::int64_t rows = 0;
  while (std::getline(in, line)) {
    std::stringstream ss(line);
    std::string f[5];
    for (auto& v : f) std::getline(ss, v, ',');
    EXPECT_EQ(std::stoll(f[0]), rows);
    const double lp = std::stod(f[1]), elbo = std::stod(f[2]), rate = std::stod(f[3]), distortion = std::stod(f[4]);
    EXPECT_NEAR(lp, truth[rows].item<double>(), 1e-9) << "row " << rows;
    EXPECT_NEAR(elbo, lp, 1e-9) << "row " << rows;
    EXPECT_NEAR(rate + distortion, -elbo, 1e-9) << "row " << rows;
    mean += lp;
    ++rows;
  }
  EXPECT_EQ(rows, 23);
  EXPECT_NEAR(mean / rows, -r.metrics.at("nll"), 1e-12);
}

TEST(Loglik, ChunkingBoundsMemoryAndKeepsTheEstimate) {
  // Values per sample and example: max(data 4, latent 2) x max(1, K = 0) = 4, so with batches of
  // 7 a bound of 700 values allows 700 / (7 x 4) = 25 samples per chunk: 120 chunks for S = 3000,
  // whose combined estimate must still agree with the truth.
  Model s(kMeanScale, kVarScale, 60);
  auto p = prior("gaussian");
  const auto m = run(s, *p, {{"samples", 3000}, {"batch_size", 7}, {"max_elements", 700}, {"limit", 60}});
  EXPECT_EQ(m.at("chunk"), 25);
  const Expected e = expected_estimate(s, 3000, 60);
  ASSERT_LT(e.worst_var_over_s, 0.05);
  EXPECT_NEAR(-m.at("nll"), e.value, 4 * e.standard_error) << "truth " << s.truth;
  // A prior with a hidden layer wider than the data counts it: VHP with hidden [64] and K = 3 has
  // max(data 4, latent 2, hidden 64) x 3 = 192 values per sample and example, so 7 x 192 x 5 = 6,720
  // allows 5 samples per chunk (the data and latent sizes alone would have allowed 80).
  auto wide = prior("vhp", {{"hidden", {64}}, {"samples", 3}});
  const auto w = run(s, *wide, {{"samples", 20}, {"batch_size", 7}, {"max_elements", 6720}, {"limit", 7}});
  EXPECT_EQ(w.at("chunk"), 5);
  // `limit` takes the first examples only.
  const auto few = run(s, *p, {{"samples", 10}, {"limit", 13}});
  EXPECT_EQ(few.at("examples"), 13);
}

TEST(Loglik, StatesAndRestoresTheKOfABoundPrior) {
  // A VHP prior keeps its K after evaluation, and the stated K is reported.
  Model s(1.0, 1.0, 10);
  auto p = prior("vhp", {{"samples", 3}, {"hidden", {4}}});
  const auto m = run(s, *p, {{"samples", 20}, {"prior_samples", 11}});
  EXPECT_EQ(m.at("prior_samples"), 11);
  EXPECT_EQ(p->bound_samples(), 3);
  EXPECT_TRUE(std::isfinite(m.at("nll")));
  const auto own = run(s, *p, {{"samples", 20}});
  EXPECT_EQ(own.at("prior_samples"), 3);
}

}  // namespace
