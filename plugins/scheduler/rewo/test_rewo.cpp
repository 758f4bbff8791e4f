// Scheduler "rewo" against values computed by hand (Eq. 12, 13, Alg. 1). The inputs are chosen
// so the running averages are exact binary fractions; beta is compared with the same formula
// written out in the test (relative tolerance 1e-13 for the exp/tanh round-off).
#include <cmath>
#include <limits>

#include <gtest/gtest.h>

#include "test_util.hpp"

namespace {

using priorlab::Scheduler;
using priorlab::SchedulerInput;
using priorlab::test::json;

std::shared_ptr<Scheduler> make_rewo(const json& options) { return priorlab::test::make<Scheduler>("rewo", options); }

using priorlab::test::expect_rel;
using priorlab::test::input;

TEST(Rewo, DefaultsReproduceThePaper) {
  const auto& entry = priorlab::test::registry().find("rewo", "scheduler", "/test");
  const json d = entry.options.resolve(json::object(), "/test/options");
  EXPECT_EQ(d.at("measure"), "nll");
  EXPECT_EQ(d.at("alpha").get<double>(), 0.99);
  EXPECT_EQ(d.at("nu").get<double>(), 1.0);
  EXPECT_EQ(d.at("tau").get<double>(), 3.0);
  EXPECT_EQ(d.at("beta_init").get<double>(), 1e-6);
  EXPECT_EQ(d.at("update_every").get<std::int64_t>(), 1);
  EXPECT_EQ(d.at("max_factor").get<double>(), 0.0);

  auto s = make_rewo(json::object());
  EXPECT_EQ(s->beta(), 1e-6);
  EXPECT_FALSE(s->train_prior());
  EXPECT_EQ(s->phase(), "initial");
  EXPECT_EQ(s->metrics().count("C_hat"), 0u);  // nothing seen yet
  EXPECT_EQ(s->metrics().at("threshold"), 0.18);
}

TEST(Rewo, RunningAverageWithDefaultAlpha) {
  // alpha = 0.99: Ĉ_1 = C_1 = 0.3; Ĉ_2 = 0.01 * 0.5 + 0.99 * 0.3 = 0.302; Ĉ_3 = 0.01 * 0.1 + 0.99 * 0.302.
  auto s = make_rewo({{"threshold", 0.0}});
  s->update(input(0.3));
  EXPECT_EQ(s->metrics().at("C_hat"), 0.3);
  s->update(input(0.5));
  EXPECT_NEAR(s->metrics().at("C_hat"), 0.302, 1e-15);
  EXPECT_EQ(s->metrics().at("C_ba"), 0.5);
  s->update(input(0.1));
  EXPECT_NEAR(s->metrics().at("C_hat"), 0.01 * 0.1 + 0.99 * 0.302, 1e-15);
}

TEST(Rewo, InitialPhaseSwitchAndBothDirections) {
  // threshold 0.5, alpha 0.5, nu 2, tau 3, beta_init 0.01.
  auto s = make_rewo({{"threshold", 0.5}, {"alpha", 0.5}, {"nu", 2.0}, {"tau", 3.0}, {"beta_init", 0.01}});
  // Step 1: C = 1 -> Ĉ = 1 (Ĉ_0 = C_ba). Not < 0.5: initial, beta frozen, prior frozen.
  s->update(input(1.0));
  EXPECT_EQ(s->metrics().at("C_hat"), 1.0);
  EXPECT_EQ(s->beta(), 0.01);
  EXPECT_FALSE(s->train_prior());
  EXPECT_EQ(s->phase(), "initial");
  // Step 2: C = 0.5 -> Ĉ = 0.5 * 0.5 + 0.5 * 1 = 0.75. Still initial.
  s->update(input(0.5));
  EXPECT_EQ(s->metrics().at("C_hat"), 0.75);
  EXPECT_EQ(s->beta(), 0.01);
  EXPECT_FALSE(s->train_prior());
  // Step 3: C = 0 -> Ĉ = 0.375 < 0.5: switch, and the switch step already updates (Alg. 1):
  // delta = -0.125 < 0, H = 0, f = tanh(3 (0.01 - 1)) = tanh(-2.97);
  // beta = 0.01 * exp(2 * tanh(-2.97) * (-0.125)) = 0.01 * exp(0.25 tanh(2.97)) > 0.01.
  s->update(input(0.0));
  EXPECT_EQ(s->metrics().at("C_hat"), 0.375);
  const double b3 = 0.01 * std::exp(0.25 * std::tanh(2.97));
  expect_rel(s->beta(), b3);
  EXPECT_GT(s->beta(), 0.01);
  EXPECT_TRUE(s->train_prior());
  EXPECT_EQ(s->phase(), "main");
  // Step 4: C = 2 -> Ĉ = 1 + 0.1875 = 1.1875, delta = 0.6875 > 0: H = 1, f = -1;
  // beta = b3 * exp(-2 * 0.6875) = b3 * exp(-1.375) < b3. The switch is permanent.
  s->update(input(2.0));
  EXPECT_EQ(s->metrics().at("C_hat"), 1.1875);
  expect_rel(s->beta(), b3 * std::exp(-1.375));
  EXPECT_TRUE(s->train_prior());
  EXPECT_EQ(s->phase(), "main");
}

TEST(Rewo, DeltaZeroLeavesBetaAndDoesNotSwitch) {
  // Ĉ == threshold exactly: no switch (the switch needs Ĉ < threshold strictly).
  auto s = make_rewo({{"threshold", 0.5}, {"alpha", 0.5}, {"beta_init", 0.25}});
  s->update(input(0.5));
  EXPECT_EQ(s->phase(), "initial");
  // C = 0.25 -> Ĉ = 0.125 + 0.25 = 0.375: switch, beta = 0.25 exp(tanh(3 (0.25 - 1)) (-0.125)) (nu = 1).
  s->update(input(0.25));
  const double b = 0.25 * std::exp(std::tanh(-2.25) * -0.125);
  expect_rel(s->beta(), b);
  // C = 0.625 -> Ĉ = 0.3125 + 0.1875 = 0.5: delta = 0, factor exp(0) = 1 whatever H(0) is.
  s->update(input(0.625));
  EXPECT_EQ(s->metrics().at("C_hat"), 0.5);
  EXPECT_EQ(s->beta(), b);
  EXPECT_EQ(s->phase(), "main");
}

TEST(Rewo, BetaNeverExceedsOne) {
  // Gentle: nu 1, threshold 0.1, C = 0, alpha 0 -> delta = -0.1 every step;
  // beta <- beta exp(0.1 tanh(3 (1 - beta))) rises monotonically towards 1.
  auto gentle = make_rewo({{"threshold", 0.1}, {"alpha", 0.0}, {"beta_init", 0.5}});
  double prev = gentle->beta();
  for (int t = 0; t < 2000; ++t) {
    gentle->update(input(0.0));
    ASSERT_LE(gentle->beta(), 1.0);
    ASSERT_GE(gentle->beta(), prev);
    prev = gentle->beta();
  }
  EXPECT_GT(gentle->beta(), 0.999);
  // Aggressive: nu 5, threshold 1, delta = -1: the first factor exp(5 tanh(1.5)) ≈ 92 would take
  // beta = 0.5 to 46; it is clamped to 1, and 1 is a fixed point (tanh(0) = 0).
  auto hard = make_rewo({{"threshold", 1.0}, {"alpha", 0.0}, {"nu", 5.0}, {"beta_init", 0.5}});
  for (int t = 0; t < 100; ++t) {
    hard->update(input(0.0));
    ASSERT_EQ(hard->beta(), 1.0);
  }
}

TEST(Rewo, BetaStaysPositiveUnderLongViolation) {
  // After the switch, delta = 1e3 for many steps: exp(-1e3) underflows to 0; beta stays > 0.
  auto s = make_rewo({{"threshold", 0.5}, {"alpha", 0.0}});
  s->update(input(0.0));
  for (int t = 0; t < 10; ++t) s->update(input(1000.5));
  EXPECT_GT(s->beta(), 0.0);
  EXPECT_EQ(s->beta(), std::numeric_limits<double>::min());
}

TEST(Rewo, MeasureSelectsTheInput) {
  // nll 1.0, squared error 0.2, threshold 0.5, alpha 0.
  auto nll = make_rewo({{"threshold", 0.5}, {"alpha", 0.0}, {"measure", "nll"}});
  auto se = make_rewo({{"threshold", 0.5}, {"alpha", 0.0}, {"measure", "squared_error"}});
  nll->update(input(1.0, 0.2));
  se->update(input(1.0, 0.2));
  EXPECT_EQ(nll->metrics().at("C_hat"), 1.0);
  EXPECT_EQ(nll->phase(), "initial");
  EXPECT_EQ(se->metrics().at("C_hat"), 0.2);
  EXPECT_EQ(se->metrics().at("C_ba"), 0.2);
  EXPECT_EQ(se->phase(), "main");
}

TEST(Rewo, MaxFactorClampsEachUpdate) {
  // nu 5, threshold 0.5, alpha 0, max_factor 2, beta_init 1e-6.
  auto s = make_rewo({{"threshold", 0.5}, {"alpha", 0.0}, {"nu", 5.0}, {"max_factor", 2.0}});
  // C = 0: delta = -0.5, factor exp(5 tanh(3 (1e-6 - 1)) (-0.5)) ≈ exp(2.49) ≈ 12 -> clamped to 2.
  s->update(input(0.0));
  EXPECT_EQ(s->beta(), 2e-6);
  // C = 10: delta = 9.5, factor exp(-47.5) -> clamped to 1/2.
  s->update(input(10.0));
  EXPECT_EQ(s->beta(), 1e-6);
  // A factor inside [1/2, 2] is left alone: C = 0.55, delta = 0.05, factor exp(-0.25).
  s->update(input(0.55));
  expect_rel(s->beta(), 1e-6 * std::exp(-5 * (0.55 - 0.5)));
}

TEST(Rewo, UpdateEveryCountsFromTheSwitchStep) {
  // update_every 3: main-phase steps 1 (the switch), 4, 7, ... update beta.
  // threshold 0.5, alpha 0, C = 0.25: delta = -0.25, nu 1, tau 3.
  auto s = make_rewo({{"threshold", 0.5}, {"alpha", 0.0}, {"update_every", 3}, {"beta_init", 0.5}});
  s->update(input(1.0));  // initial
  EXPECT_EQ(s->beta(), 0.5);
  double b = 0.5;
  auto step = [&] { b = b * std::exp(std::tanh(3 * (b - 1)) * -0.25); };
  s->update(input(0.25));  // main step 1: update
  step();
  expect_rel(s->beta(), b);
  const double after_first = s->beta();
  s->update(input(0.25));  // main step 2
  s->update(input(0.25));  // main step 3
  EXPECT_EQ(s->beta(), after_first);
  s->update(input(0.25));  // main step 4: update
  step();
  expect_rel(s->beta(), b);
}

TEST(Rewo, StateRoundTripsExactly) {
  const json options = {{"threshold", 0.3}, {"nu", 5.0}, {"alpha", 0.5}};
  auto a = make_rewo(options);
  // Before anything is seen.
  auto fresh = make_rewo(options);
  fresh->load_state(json::parse(a->state().dump()));
  EXPECT_EQ(fresh->state(), a->state());
  // Irrational-looking values so a lossy serialisation would show.
  const double cs[] = {0.71, 0.43, 0.29, 0.17, 0.31, 0.22, 0.05};
  for (double c : cs) a->update(input(c, c / 3));
  ASSERT_EQ(a->phase(), "main");  // Ĉ: 0.71, 0.57, 0.43, 0.30, 0.305, 0.2625 (switch), 0.156
  auto b = make_rewo(options);
  b->load_state(json::parse(a->state().dump()));  // through text, as a checkpoint does
  EXPECT_EQ(b->beta(), a->beta());
  EXPECT_EQ(b->phase(), a->phase());
  EXPECT_EQ(b->train_prior(), a->train_prior());
  EXPECT_EQ(b->metrics(), a->metrics());
  for (double c : {0.27, 0.41, 0.13}) {
    a->update(input(c));
    b->update(input(c));
    EXPECT_EQ(b->beta(), a->beta());
    EXPECT_EQ(b->metrics(), a->metrics());
  }
}

TEST(Rewo, RejectsDegenerateOptions) {
  EXPECT_THROW(make_rewo({{"alpha", 1.0}}), std::exception);
  EXPECT_THROW(make_rewo({{"max_factor", 0.5}}), std::exception);
  EXPECT_THROW(make_rewo({{"beta_init", 0.0}}), std::exception);
  EXPECT_THROW(make_rewo({{"measure", "l1"}}), std::exception);
}

}  // namespace

namespace {
SchedulerInput at_step(std::int64_t step, double nll) {
  SchedulerInput in;
  in.step = step;
  in.nll_per_dim = nll;
  return in;
}
}  // namespace

TEST(Rewo, BindingShareAndTheStepBetaReachesOne) {
  // alpha = 0: C_hat = C_ba. A main-phase step binds when C_hat >= threshold after it.
  auto s = make_rewo({{"threshold", 0.5}, {"alpha", 0.0}, {"nu", 1.0}, {"tau", 3.0}, {"beta_init", 0.5}});
  s->update(at_step(0, 1.0));  // initial phase: not counted
  EXPECT_EQ(s->metrics().count("binding_share"), 0u);
  s->update(at_step(1, 0.2));  // switch; delta -0.3: beta 0.5 exp(0.3 tanh(1.5)) = 0.656 rises: not bound
  expect_rel(s->beta(), 0.5 * std::exp(0.3 * std::tanh(1.5)));
  s->update(at_step(2, 0.6));  // delta 0.1: beta falls: bound
  s->update(at_step(3, -9.5));  // delta -10: exp(10 |tanh(3 (beta - 1))|) > 2: beta clamps at 1: not bound
  EXPECT_EQ(s->beta(), 1.0);
  s->update(at_step(4, 0.5));  // delta 0: beta = 1 stays (exp(0)), and C_hat = threshold: bound
  const auto m = s->metrics();
  EXPECT_DOUBLE_EQ(m.at("binding_share"), 2.0 / 4.0);  // steps 2 and 4 of the 4 main-phase steps
  EXPECT_EQ(m.at("beta_one_step"), 4);                  // steps done when beta first reached 1
  // The record travels with the state (resume-exact).
  auto t = make_rewo({{"threshold", 0.5}, {"alpha", 0.0}, {"beta_init", 0.5}});
  t->load_state(s->state());
  EXPECT_EQ(t->metrics(), m);
}

TEST(Rewo, BetaWithinOneThousandthOfOneCountsAsReachingOne) {
  // REWO's beta approaches 1 geometrically and need never equal it.
  auto s = make_rewo({{"threshold", 0.5}, {"alpha", 0.0}, {"nu", 1.0}, {"tau", 3.0}, {"beta_init", 0.998}});
  s->update(at_step(0, 0.6));  // initial phase, beta 0.998
  s->update(at_step(1, 0.4));  // switch; delta -0.1
  const double b1 = 0.998 * std::exp(0.1 * std::tanh(3 * 0.002));
  expect_rel(s->beta(), b1);
  ASSERT_LT(b1, 0.999);
  EXPECT_EQ(s->metrics().count("beta_one_step"), 0u);
  s->update(at_step(2, 0.35));  // delta -0.15
  const double b2 = b1 * std::exp(0.15 * std::tanh(3 * (1 - b1)));
  expect_rel(s->beta(), b2);
  ASSERT_GE(b2, 0.999);
  ASSERT_LT(b2, 1.0);
  EXPECT_EQ(s->metrics().at("beta_one_step"), 3);
}

TEST(Rewo, GuardSaysWhenTheThresholdCannotBind) {
  priorlab::ConstraintBaseline b;
  b.squared_error_per_dim = 0.046;
  b.nll_per_dim = 0.93;
  b.examples = 100;
  const json ok = make_rewo({{"threshold", 0.01}, {"measure", "squared_error"}})->check_baseline(b);
  EXPECT_EQ(ok.at("can_bind"), true);
  EXPECT_EQ(ok.at("baseline"), 0.046);
  EXPECT_FALSE(ok.contains("warning"));
  // At or above the baseline: the line names both numbers and what REWO will do.
  for (double threshold : {0.046, 0.07}) {
    const json bad = make_rewo({{"threshold", threshold}, {"measure", "squared_error"}})->check_baseline(b);
    EXPECT_EQ(bad.at("can_bind"), false);
    const std::string w = bad.at("warning");
    EXPECT_NE(w.find("cannot bind"), std::string::npos) << w;
    EXPECT_NE(w.find("0.046"), std::string::npos) << w;
    EXPECT_NE(w.find("act like beta = 1"), std::string::npos) << w;
  }
  // The nll measure compares with the nll baseline; an unknown baseline decides nothing.
  EXPECT_EQ(make_rewo({{"threshold", 0.5}})->check_baseline(b).at("can_bind"), true);
  b.nll_per_dim = std::numeric_limits<double>::quiet_NaN();
  EXPECT_TRUE(make_rewo({{"threshold", 0.5}})->check_baseline(b).at("can_bind").is_null());
}
