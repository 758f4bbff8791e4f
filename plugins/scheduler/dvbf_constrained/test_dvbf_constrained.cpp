// Scheduler "dvbf_constrained" against values computed by hand from the authors' update
// (argmax-ai/deep-variational-bayes-filters, beta_update.py, ConstrainedOptimization):
// reconstruction alone (beta = 0, prior frozen) until Ĉ < threshold; then on steps t with
// t % update_every == 0: lambda <- clip(lambda * clip(exp(nu f delta), 0.9, 1.05), 1e-6, 1e8),
// f = 1 while Ĉ >= threshold and -tanh(tau (1/lambda - 1)) while Ĉ < threshold; beta = 1/lambda.
// The inputs make every running average an exact binary fraction.
#include <cmath>
#include <limits>

#include <gtest/gtest.h>

#include "test_util.hpp"

namespace {

using priorlab::Scheduler;
using priorlab::SchedulerInput;
using priorlab::test::error_place;
using priorlab::test::expect_rel;
using priorlab::test::json;

std::shared_ptr<Scheduler> make_dvbf(const json& options) {
  return priorlab::test::make<Scheduler>("dvbf_constrained", options);
}

SchedulerInput at(std::int64_t step, double nll, double squared_error = 0.0) {
  SchedulerInput in;
  in.step = step;
  in.nll_per_dim = nll;
  in.squared_error_per_dim = squared_error;
  return in;
}

double lambda_of(const Scheduler& s) { return s.metrics().at("lambda"); }

TEST(DvbfConstrained, DefaultsAreTheAuthors) {
  const auto& entry = priorlab::test::registry().find("dvbf_constrained", "scheduler", "/test");
  const json d = entry.options.resolve(json::object(), "/test/options");
  EXPECT_EQ(d.at("measure"), "nll");                    // the loss nll / target_size
  EXPECT_EQ(d.at("alpha").get<double>(), 0.99);         // self.alpha = 0.99
  EXPECT_EQ(d.at("nu").get<double>(), 1.0);             // nu_dual: float = 1
  EXPECT_EQ(d.at("tau").get<double>(), 100.0);          // self.tau = 100.0
  EXPECT_EQ(d.at("lambda_init").get<double>(), 1.0);    // lambda_dual: float = 1
  EXPECT_EQ(d.at("update_every").get<std::int64_t>(), 100);  // global_step % 100 == 0
  EXPECT_EQ(d.at("factor_min").get<double>(), 0.9);     // torch.clamp(..., 0.9, 1.05)
  EXPECT_EQ(d.at("factor_max").get<double>(), 1.05);
  EXPECT_EQ(d.at("lambda_min").get<double>(), 1e-6);    // torch.clamp(..., 1e-6, 1e8)
  EXPECT_EQ(d.at("lambda_max").get<double>(), 1e8);
  auto s = make_dvbf(json::object());
  EXPECT_EQ(s->beta(), 0.0);  // the initial phase: no rate term at all
  EXPECT_FALSE(s->train_prior());
  EXPECT_EQ(s->phase(), "initial");
  EXPECT_EQ(lambda_of(*s), 1.0);
  EXPECT_EQ(s->metrics().count("C_hat"), 0u);
}

TEST(DvbfConstrained, HandComputedSequence) {
  // threshold 0.5, alpha 0.5; the reference's nu 1, tau 100, every 100 steps, clip [0.9, 1.05].
  auto s = make_dvbf({{"threshold", 0.5}, {"alpha", 0.5}});
  // Step 0: C = 1 -> Ĉ = 1 (Ĉ_0 = C_ba): initial phase, although 0 % 100 == 0: no update there.
  s->update(at(0, 1.0));
  EXPECT_EQ(s->metrics().at("C_hat"), 1.0);
  EXPECT_EQ(s->beta(), 0.0);
  EXPECT_FALSE(s->train_prior());
  EXPECT_EQ(s->phase(), "initial");
  // Step 1: C = 0.5 -> Ĉ = 0.25 + 0.5 = 0.75: still initial.
  s->update(at(1, 0.5));
  EXPECT_EQ(s->metrics().at("C_hat"), 0.75);
  EXPECT_EQ(s->beta(), 0.0);
  // Step 2: C = 0 -> Ĉ = 0.375 < 0.5: the switch. Step 2 is no update step: lambda = 1, beta = 1.
  s->update(at(2, 0.0));
  EXPECT_EQ(s->metrics().at("C_hat"), 0.375);
  EXPECT_EQ(s->phase(), "main");
  EXPECT_TRUE(s->train_prior());
  EXPECT_EQ(lambda_of(*s), 1.0);
  EXPECT_EQ(s->beta(), 1.0);
  EXPECT_EQ(s->metrics().at("beta_one_step"), 3.0);  // beta = 1 from the switch on (steps done: 3)
  // Steps 3 .. 99: C = 0.375 keeps Ĉ = 0.375 (met); no update step, lambda stays 1.
  for (std::int64_t t = 3; t < 100; ++t) s->update(at(t, 0.375));
  EXPECT_EQ(lambda_of(*s), 1.0);
  // Step 100: C = 2.625 -> Ĉ = 1.3125 + 0.1875 = 1.5, delta = 1 (violated): f = 1,
  // exp(1) = 2.718 is clipped to 1.05: lambda = 1.05, beta = 1/1.05.
  s->update(at(100, 2.625));
  EXPECT_EQ(s->metrics().at("C_hat"), 1.5);
  EXPECT_EQ(lambda_of(*s), 1.05);
  EXPECT_EQ(s->beta(), 1.0 / 1.05);
  // Steps 101 .. 199: Ĉ = 1.5, violated, but no update step.
  for (std::int64_t t = 101; t < 200; ++t) s->update(at(t, 1.5));
  EXPECT_EQ(lambda_of(*s), 1.05);
  // Step 200: C = -1 -> Ĉ = -0.5 + 0.75 = 0.25, delta = -0.25 (met): f = -tanh(100 (1/1.05 - 1))
  // = tanh(4.76) = 0.99985, exp(-0.24996) = 0.7788 is clipped to 0.9: lambda = 1.05 * 0.9 = 0.945,
  // beta = 1.058 > 1 (no cap at 1).
  s->update(at(200, -1.0));
  EXPECT_EQ(s->metrics().at("C_hat"), 0.25);
  const double l200 = 1.05 * 0.9;
  EXPECT_EQ(lambda_of(*s), l200);
  EXPECT_EQ(s->beta(), 1.0 / l200);
  EXPECT_GT(s->beta(), 1.0);
  // Steps 201 .. 299: Ĉ = 0.25; step 300: C = 0.71875 -> Ĉ = 0.359375 + 0.125 = 0.484375,
  // delta = -1/64. lambda < 1: f = -tanh(100 (1/0.945 - 1)) = -tanh(5.82) = -0.99998, so
  // exp(nu f delta) = exp(0.015625) = 1.0157, inside the clip: lambda moves back towards 1.
  for (std::int64_t t = 201; t < 300; ++t) s->update(at(t, 0.25));
  EXPECT_EQ(lambda_of(*s), l200);
  s->update(at(300, 0.71875));
  EXPECT_EQ(s->metrics().at("C_hat"), 0.484375);
  const double l300 = l200 * std::exp(-std::tanh(100.0 * (1.0 / l200 - 1.0)) * -0.015625);
  expect_rel(lambda_of(*s), l300);
  expect_rel(s->beta(), 1.0 / l300);
  EXPECT_GT(lambda_of(*s), l200);
  EXPECT_LT(lambda_of(*s), 1.0);
  // Bound (Ĉ >= threshold) on main-phase steps 100 .. 199: 100 of the 299 steps 2 .. 300.
  EXPECT_DOUBLE_EQ(s->metrics().at("binding_share"), 100.0 / 299.0);
}

TEST(DvbfConstrained, InitialPhaseWaitsForTheRunningAverage) {
  // Default alpha 0.99: C = 1 then 0 gives Ĉ = 1, then 0.99: above 0.5, still initial.
  auto s = make_dvbf({{"threshold", 0.5}});
  s->update(at(0, 1.0));
  s->update(at(1, 0.0));
  EXPECT_EQ(s->metrics().at("C_hat"), 0.99);
  EXPECT_EQ(s->phase(), "initial");
  EXPECT_EQ(s->beta(), 0.0);
  // Ĉ == threshold exactly does not switch (the reference tests constrain < eps).
  auto e = make_dvbf({{"threshold", 0.5}, {"alpha", 0.0}});
  e->update(at(5, 0.5));
  EXPECT_EQ(e->phase(), "initial");
}

TEST(DvbfConstrained, TheSwitchStepUpdatesWhenItIsAnUpdateStep) {
  // Step 0 is an update step (0 % 100 == 0). threshold 0.5, alpha 0, nu 0.1, tau 1, lambda_init 2
  // (beta 0.5). C = 0.3 meets it at once: f = -tanh(1/2 - 1) = tanh(0.5) = 0.4621,
  // factor = exp(0.1 * 0.4621 * -0.2) = 0.99080, inside the clip: lambda = 2 * 0.99080.
  auto s = make_dvbf({{"threshold", 0.5}, {"alpha", 0.0}, {"nu", 0.1}, {"tau", 1.0}, {"lambda_init", 2.0}});
  s->update(at(0, 0.3));
  const double lambda = 2.0 * std::exp(0.1 * std::tanh(0.5) * (0.3 - 0.5));
  EXPECT_EQ(s->phase(), "main");
  expect_rel(lambda_of(*s), lambda);
  expect_rel(s->beta(), 1.0 / lambda);
  EXPECT_GT(s->beta(), 0.5);  // beta rises towards 1 while the constraint holds
  // A switch on step 1 waits for step 100.
  auto w = make_dvbf({{"threshold", 0.5}, {"alpha", 0.0}, {"lambda_init", 2.0}});
  w->update(at(1, 0.3));
  EXPECT_EQ(w->phase(), "main");
  EXPECT_EQ(lambda_of(*w), 2.0);
  w->update(at(100, 0.3));  // f = -tanh(100 (1/2 - 1)) = tanh(50) = 1: exp(-0.2) = 0.82 -> 0.9
  EXPECT_EQ(lambda_of(*w), 1.8);
}

TEST(DvbfConstrained, LambdaIsClamped) {
  // Upper: every step updates; threshold 0.5, alpha 0, lambda_max 1.06. Step 0 switches with
  // lambda = 1: f = -tanh(0) = 0, factor 1. Then C = 0.9 (delta 0.4): x 1.05, then x 1.05 =
  // 1.1025 -> 1.06.
  auto up = make_dvbf({{"threshold", 0.5}, {"alpha", 0.0}, {"update_every", 1}, {"lambda_max", 1.06}});
  up->update(at(0, 0.4));
  EXPECT_EQ(lambda_of(*up), 1.0);
  up->update(at(1, 0.9));
  EXPECT_EQ(lambda_of(*up), 1.05);
  up->update(at(2, 0.9));
  EXPECT_EQ(lambda_of(*up), 1.06);
  EXPECT_EQ(up->beta(), 1.0 / 1.06);
  // Lower: lambda_init 2, lambda_min 1.5; C = 0 (delta -0.5), f = tanh(50) = 1, exp(-0.5) -> 0.9:
  // 1.8, 1.62, then 1.458 -> 1.5.
  auto down = make_dvbf(
      {{"threshold", 0.5}, {"alpha", 0.0}, {"update_every", 1}, {"lambda_init", 2.0}, {"lambda_min", 1.5}});
  down->update(at(0, 0.0));
  EXPECT_EQ(lambda_of(*down), 2.0 * 0.9);
  down->update(at(1, 0.0));
  EXPECT_EQ(lambda_of(*down), 2.0 * 0.9 * 0.9);
  down->update(at(2, 0.0));
  EXPECT_EQ(lambda_of(*down), 1.5);
  // The default upper clamp 1e8 after 378 clipped updates (1.05^377 < 1e8 < 1.05^378); a delta
  // of 1e6 makes exp overflow to +inf, which the clip takes to 1.05 like any large factor.
  auto d = make_dvbf({{"threshold", 0.5}, {"alpha", 0.0}, {"update_every", 1}});
  d->update(at(0, 0.4));  // switch, lambda 1
  double want = 1.0;
  for (std::int64_t t = 1; t <= 377; ++t) {
    d->update(at(t, 1e6));
    want *= 1.05;
  }
  EXPECT_EQ(lambda_of(*d), want);
  EXPECT_LT(want, 1e8);
  d->update(at(378, 1e6));
  EXPECT_EQ(lambda_of(*d), 1e8);
  EXPECT_EQ(d->beta(), 1e-8);
}

TEST(DvbfConstrained, MeasureSelectsTheInput) {
  // nll 1.0, squared error 0.2, threshold 0.5, alpha 0: only the squared error meets it.
  auto nll = make_dvbf({{"threshold", 0.5}, {"alpha", 0.0}, {"measure", "nll"}});
  auto se = make_dvbf({{"threshold", 0.5}, {"alpha", 0.0}, {"measure", "squared_error"}});
  nll->update(at(1, 1.0, 0.2));
  se->update(at(1, 1.0, 0.2));
  EXPECT_EQ(nll->metrics().at("C_hat"), 1.0);
  EXPECT_EQ(nll->phase(), "initial");
  EXPECT_EQ(se->metrics().at("C_hat"), 0.2);
  EXPECT_EQ(se->phase(), "main");
}

TEST(DvbfConstrained, StateRoundTripsExactly) {
  const json options = {{"threshold", 0.3}, {"update_every", 3}, {"nu", 4.0}, {"alpha", 0.5}, {"tau", 3.0}};
  auto a = make_dvbf(options);
  // Before anything is seen, and in the initial phase.
  auto fresh = make_dvbf(options);
  fresh->load_state(json::parse(a->state().dump()));
  EXPECT_EQ(fresh->state(), a->state());
  std::int64_t t = 0;
  a->update(at(t++, 0.71));
  auto early = make_dvbf(options);
  early->load_state(json::parse(a->state().dump()));
  EXPECT_EQ(early->phase(), "initial");
  EXPECT_EQ(early->metrics(), a->metrics());
  // Mid-run: Ĉ 0.71, 0.38, 0.215 (the switch, step 2), then updates on steps 3, 6, 9, 12 both ways.
  for (double c : {0.05, 0.05, 0.05, 0.9, 0.45, 0.12, 0.6, 0.08, 0.5, 0.3, 0.1, 0.2}) a->update(at(t++, c));
  ASSERT_EQ(a->phase(), "main");
  auto b = make_dvbf(options);
  b->load_state(json::parse(a->state().dump()));  // through text, as a checkpoint does
  EXPECT_EQ(b->beta(), a->beta());
  EXPECT_EQ(b->phase(), a->phase());
  EXPECT_EQ(b->train_prior(), a->train_prior());
  EXPECT_EQ(b->metrics(), a->metrics());
  for (double c : {0.27, 0.41, 0.13, 0.5, 0.05, 0.33, 0.29, 0.31, 0.02}) {
    a->update(at(t, c));
    b->update(at(t, c));
    ++t;
    EXPECT_EQ(b->beta(), a->beta());
    EXPECT_EQ(b->metrics(), a->metrics());
  }
  EXPECT_EQ(b->state(), a->state());
}

TEST(DvbfConstrained, RejectsBadOptionsNamingTheJsonPath) {
  // The declaration's ranges (checked before construction).
  EXPECT_EQ(error_place([] { make_dvbf({{"alpha", 1.0}}); }), "/test/options/alpha");
  EXPECT_EQ(error_place([] { make_dvbf({{"measure", "l1"}}); }), "/test/options/measure");
  EXPECT_EQ(error_place([] { make_dvbf({{"nu", 0.0}}); }), "/test/options/nu");
  EXPECT_EQ(error_place([] { make_dvbf({{"tau", -1.0}}); }), "/test/options/tau");
  EXPECT_EQ(error_place([] { make_dvbf({{"update_every", 0}}); }), "/test/options/update_every");
  EXPECT_EQ(error_place([] { make_dvbf({{"factor_min", 0.0}}); }), "/test/options/factor_min");
  EXPECT_EQ(error_place([] { make_dvbf({{"factor_min", 1.2}}); }), "/test/options/factor_min");
  EXPECT_EQ(error_place([] { make_dvbf({{"factor_max", 0.5}}); }), "/test/options/factor_max");
  EXPECT_EQ(error_place([] { make_dvbf({{"lambda_init", 0.0}}); }), "/test/options/lambda_init");
  // The plugin's own checks.
  EXPECT_EQ(error_place([] { make_dvbf({{"lambda_min", 10.0}, {"lambda_max", 1.0}, {"lambda_init", 5.0}}); }),
            "plugin 'dvbf_constrained': /test/options/lambda_min");
  EXPECT_EQ(error_place([] { make_dvbf({{"lambda_init", 1e9}}); }), "plugin 'dvbf_constrained': /test/options/lambda_init");
  EXPECT_EQ(error_place([] { make_dvbf({{"lambda_init", 1e-7}}); }), "plugin 'dvbf_constrained': /test/options/lambda_init");
}

TEST(DvbfConstrained, GuardSaysWhatHappensWhenTheThresholdCannotBind) {
  priorlab::ConstraintBaseline b;
  b.nll_per_dim = 0.4;
  b.squared_error_per_dim = 0.046;
  const json ok = make_dvbf({{"threshold", 0.3}})->check_baseline(b);
  EXPECT_EQ(ok.at("can_bind"), true);
  EXPECT_EQ(ok.at("scheduler"), "dvbf_constrained");
  const json bad = make_dvbf({{"threshold", 0.5}})->check_baseline(b);
  EXPECT_EQ(bad.at("can_bind"), false);
  const std::string w = bad.at("warning");
  EXPECT_NE(w.find("dvbf_constrained: threshold 0.5 on the per-dimension nll is at or above 0.4"), std::string::npos) << w;
  EXPECT_NE(w.find("act like beta = 1"), std::string::npos) << w;
}

}  // namespace
