// Scheduler "geco" against values computed by hand (Eq. 5): lambda_t = lambda_{t-1} exp(nu delta),
// delta = Ĉ_t - threshold, beta = 1 / lambda, lambda clamped to [lambda_min, lambda_max].
#include <cmath>

#include <gtest/gtest.h>

#include "test_util.hpp"

namespace {

using priorlab::Scheduler;
using priorlab::SchedulerInput;
using priorlab::test::json;

std::shared_ptr<Scheduler> make_geco(const json& options) { return priorlab::test::make<Scheduler>("geco", options); }

using priorlab::test::expect_rel;
using priorlab::test::input;

TEST(Geco, DefaultsAndEveryParameterTrainsFromTheStart) {
  const auto& entry = priorlab::test::registry().find("geco", "scheduler", "/test");
  const json d = entry.options.resolve(json::object(), "/test/options");
  EXPECT_EQ(d.at("measure"), "nll");
  EXPECT_EQ(d.at("alpha").get<double>(), 0.99);
  EXPECT_EQ(d.at("lambda_init").get<double>(), 1.0);
  EXPECT_EQ(d.at("lambda_min").get<double>(), 1e-6);
  EXPECT_EQ(d.at("lambda_max").get<double>(), 1e8);
  auto s = make_geco(json::object());
  EXPECT_EQ(s->beta(), 1.0);
  EXPECT_TRUE(s->train_prior());
  EXPECT_EQ(s->phase(), "main");
  EXPECT_EQ(s->metrics().at("lambda"), 1.0);
}

TEST(Geco, HandComputedSequence) {
  // threshold 0.5, alpha 0.5, nu 2, lambda_init 1.
  auto s = make_geco({{"threshold", 0.5}, {"alpha", 0.5}, {"nu", 2.0}});
  // Step 1: C = 1 -> Ĉ = 1, delta = 0.5: lambda = exp(2 * 0.5) = e, beta = 1/e (violated: beta falls).
  s->update(input(1.0));
  EXPECT_EQ(s->metrics().at("C_hat"), 1.0);
  expect_rel(s->metrics().at("lambda"), std::exp(1.0));
  expect_rel(s->beta(), std::exp(-1.0));
  EXPECT_TRUE(s->train_prior());
  // Step 2: C = 0 -> Ĉ = 0 + 0.5 = 0.5, delta = 0: lambda unchanged.
  const double lambda1 = s->metrics().at("lambda");
  s->update(input(0.0));
  EXPECT_EQ(s->metrics().at("C_hat"), 0.5);
  EXPECT_EQ(s->metrics().at("lambda"), lambda1);
  // Step 3: C = 0 -> Ĉ = 0.25, delta = -0.25: lambda = e * exp(-0.5), beta = exp(-0.5) (satisfied: beta rises).
  s->update(input(0.0));
  EXPECT_EQ(s->metrics().at("C_hat"), 0.25);
  expect_rel(s->metrics().at("lambda"), lambda1 * std::exp(-0.5));
  expect_rel(s->beta(), 1.0 / (lambda1 * std::exp(-0.5)));
}

TEST(Geco, LambdaIsClamped) {
  // threshold 0, alpha 0, nu 1, lambda_max 10: C = 5 -> lambda = exp(5) ≈ 148 -> 10, beta = 0.1.
  auto s = make_geco({{"threshold", 0.0}, {"alpha", 0.0}, {"lambda_max", 10.0}});
  s->update(input(5.0));
  EXPECT_EQ(s->metrics().at("lambda"), 10.0);
  EXPECT_EQ(s->beta(), 0.1);
  // C = -100 -> lambda = 10 exp(-100) ≈ 4e-43 -> lambda_min = 1e-6 (default), beta = 1e6.
  s->update(input(-100.0));
  EXPECT_EQ(s->metrics().at("lambda"), 1e-6);
  EXPECT_EQ(s->beta(), 1.0 / 1e-6);
  // Default clamp and an overflowing exp: delta = 1e6 -> exp = inf -> lambda_max = 1e8, beta finite.
  auto d = make_geco({{"threshold", 0.0}, {"alpha", 0.0}});
  d->update(input(1e6));
  EXPECT_EQ(d->metrics().at("lambda"), 1e8);
  EXPECT_EQ(d->beta(), 1e-8);
}

TEST(Geco, MeasureSelectsTheInput) {
  // nll 1.0, squared error 0.2, threshold 0.5, alpha 0, nu 1: lambda = exp(0.5) vs exp(-0.3).
  auto nll = make_geco({{"threshold", 0.5}, {"alpha", 0.0}, {"measure", "nll"}});
  auto se = make_geco({{"threshold", 0.5}, {"alpha", 0.0}, {"measure", "squared_error"}});
  nll->update(input(1.0, 0.2));
  se->update(input(1.0, 0.2));
  EXPECT_EQ(nll->metrics().at("C_hat"), 1.0);
  EXPECT_EQ(se->metrics().at("C_hat"), 0.2);
  expect_rel(nll->metrics().at("lambda"), std::exp(0.5));
  expect_rel(se->metrics().at("lambda"), std::exp(0.2 - 0.5));
}

TEST(Geco, StateRoundTripsExactly) {
  const json options = {{"threshold", 0.3}, {"nu", 3.0}, {"alpha", 0.9}};
  auto a = make_geco(options);
  for (double c : {0.71, 0.43, 0.29, 0.17, 0.31}) a->update(input(c));
  auto b = make_geco(options);
  b->load_state(json::parse(a->state().dump()));
  EXPECT_EQ(b->beta(), a->beta());
  EXPECT_EQ(b->metrics(), a->metrics());
  for (double c : {0.27, 0.41, 0.13}) {
    a->update(input(c));
    b->update(input(c));
    EXPECT_EQ(b->beta(), a->beta());
    EXPECT_EQ(b->metrics(), a->metrics());
  }
}

TEST(Geco, RejectsInconsistentClamp) {
  EXPECT_THROW(make_geco({{"lambda_min", 10.0}, {"lambda_max", 1.0}}), std::exception);
  EXPECT_THROW(make_geco({{"lambda_init", 1e9}}), std::exception);
  EXPECT_THROW(make_geco({{"alpha", 1.0}}), std::exception);
}

}  // namespace

TEST(Geco, BindingShareAndTheStepBetaReachesOne) {
  // alpha = 0: C_hat = C_ba; a step binds when C_hat >= threshold.
  auto s = priorlab::test::make<priorlab::Scheduler>("geco", {{"threshold", 0.5}, {"alpha", 0.0}, {"nu", 1.0}});
  priorlab::SchedulerInput in;
  for (const auto& [step, c] : std::vector<std::pair<std::int64_t, double>>{{0, 0.7}, {1, 0.1}, {2, 0.5}}) {
    in.step = step;
    in.nll_per_dim = c;
    s->update(in);
  }
  // lambda: e^0.2 (beta 0.82, bound), e^-0.2 (beta 1.22 >= 1 at step 2, not bound), unchanged
  // at delta = 0 (bound).
  EXPECT_DOUBLE_EQ(s->beta(), std::exp(0.2));
  const auto m = s->metrics();
  EXPECT_DOUBLE_EQ(m.at("binding_share"), 2.0 / 3.0);
  EXPECT_EQ(m.at("beta_one_step"), 2);
}

TEST(Geco, GuardSaysBetaWillRiseToItsClamp) {
  priorlab::ConstraintBaseline b;
  b.squared_error_per_dim = 0.046;
  const auto s = priorlab::test::make<priorlab::Scheduler>(
      "geco", {{"threshold", 0.07}, {"measure", "squared_error"}, {"lambda_min", 1e-6}});
  const auto report = s->check_baseline(b);
  EXPECT_EQ(report.at("can_bind"), false);
  const std::string w = report.at("warning");
  EXPECT_NE(w.find("geco: threshold 0.07 on the per-dimension squared_error is at or above 0.046"), std::string::npos) << w;
  EXPECT_NE(w.find("beta = 1/lambda will rise to 1e+06"), std::string::npos) << w;
}
