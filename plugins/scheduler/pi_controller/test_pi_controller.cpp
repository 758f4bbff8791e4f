// Scheduler "pi_controller" against ControlVAE's reference PIDControl.pid (shj1987/ControlVAE-
// ICML2020, Image_generation/PID.py), transcribed here apart from the plugin, and against values
// worked out by hand. The plugin's beta for step t + 1 is the reference's output for step t's KL.
#include <cmath>
#include <limits>
#include <vector>

#include <gtest/gtest.h>

#include "test_util.hpp"

namespace {

using priorlab::BuildContext;
using priorlab::Scheduler;
using priorlab::SchedulerInput;
using priorlab::test::error_place;
using priorlab::test::json;

// PIDControl of the reference: I_k1 = W_k1 = 0; pid(exp_KL, kl_loss, Kp, Ki, Kd) -> Wk clipped.
struct ReferencePid {
  double I_k1 = 0.0, W_k1 = 0.0, e_k1 = 0.0;
  double pid(double exp_KL, double kl_loss, double Kp, double Ki) {
    const double error_k = exp_KL - kl_loss;
    const double Pk = Kp * (1.0 / (1.0 + 1.0 * std::exp(error_k)));
    double Ik = I_k1 + Ki * error_k;
    if (W_k1 < 0 && W_k1 >= 1) Ik = I_k1;  // the reference's (never true) anti-windup
    double Wk = Pk + Ik;
    W_k1 = Wk;
    I_k1 = Ik;
    e_k1 = error_k;
    if (Wk > 1) Wk = 1.0;
    if (Wk < 0) Wk = 0.0;
    return Wk;
  }
};

std::shared_ptr<Scheduler> make(const json& options) {
  BuildContext ctx;
  ctx.total_steps = 1000;
  return priorlab::test::make<Scheduler>("pi_controller", options, ctx);
}

SchedulerInput step_with(std::int64_t step, double rate) {
  SchedulerInput in;
  in.step = step;
  in.rate = rate;
  return in;
}

// A KL trajectory that crosses the target both ways.
double kl_at(int t) { return 20.0 + 15.0 * std::sin(0.05 * t) + 3.0 * std::cos(0.31 * t); }

}  // namespace

TEST(PiController, DeclaresTheReferenceGainsAndClip) {
  const auto& entry = priorlab::test::registry().find("pi_controller", "scheduler", "/test");
  const json d = entry.options.resolve(json::object(), "/test/options");
  EXPECT_EQ(d.at("kp").get<double>(), 0.01);
  EXPECT_EQ(d.at("ki").get<double>(), -0.0001);
  EXPECT_EQ(d.at("beta_min").get<double>(), 0.0);
  EXPECT_EQ(d.at("beta_max").get<double>(), 1.0);
  EXPECT_EQ(d.at("anti_windup").get<bool>(), false);
}

TEST(PiController, FirstStepsByHand) {
  // target 10, Kp 0.01, Ki -1e-4, beta_init 0.5. Step 0's KL 12: e = -2, P = 0.01 / (1 + e^-2)
  // = 0.0088080, I = 0 + (-1e-4)(-2) = 2e-4, beta_1 = 0.0090080. Step 1's KL 9: e = 1,
  // P = 0.01 / (1 + e) = 0.0026894, I = 2e-4 - 1e-4 = 1e-4, beta_2 = 0.0027894.
  auto s = make({{"kl_target", 10.0}, {"beta_init", 0.5}});
  EXPECT_EQ(s->beta(), 0.5);
  s->update(step_with(0, 12.0));
  EXPECT_NEAR(s->beta(), 0.01 / (1 + std::exp(-2.0)) + 2e-4, 1e-15);
  EXPECT_NEAR(s->beta(), 0.0090080, 1e-7);
  s->update(step_with(1, 9.0));
  EXPECT_NEAR(s->beta(), 0.01 / (1 + std::exp(1.0)) + 1e-4, 1e-15);
  EXPECT_NEAR(s->metrics().at("integral"), 1e-4, 1e-18);
  EXPECT_NEAR(s->metrics().at("kl_error"), 1.0, 0);
}

TEST(PiController, FollowsTheReferenceTrajectoryStepForStep) {
  for (const double kp : {0.01, 0.5}) {
    auto s = make({{"kl_target", 18.0}, {"kp", kp}, {"ki", -0.002}});
    ReferencePid ref;
    for (int t = 0; t < 400; ++t) {
      const double kl = kl_at(t);
      s->update(step_with(t, kl));
      const double want = ref.pid(18.0, kl, kp, -0.002);
      ASSERT_EQ(s->beta(), want) << "step " << t;
    }
  }
}

TEST(PiController, ClipsBetaButNotTheIntegralUnlessAntiWindupIsOn) {
  // KL far above target for 100 steps: e = -90, I grows by 0.009 a step past 1 (beta = 1), then
  // KL far below: without anti-windup I must first come back down from ~0.9 + ... before beta falls.
  auto plain = make({{"kl_target", 10.0}, {"ki", -1e-4}});
  auto guarded = make({{"kl_target", 10.0}, {"ki", -1e-4}, {"anti_windup", true}});
  for (int t = 0; t < 200; ++t) plain->update(step_with(t, 100.0)), guarded->update(step_with(t, 100.0));
  EXPECT_EQ(plain->beta(), 1.0);
  EXPECT_EQ(guarded->beta(), 1.0);
  EXPECT_NEAR(plain->metrics().at("integral"), 200 * 0.009, 1e-9);  // wound up to 1.8
  // Guarded: I stops growing once W left [0, 1]: W first exceeds 1 at I = ceil(1 / 0.009) x 0.009.
  const double guarded_i = guarded->metrics().at("integral");
  EXPECT_GT(guarded_i, 1.0 - 0.01);
  EXPECT_LT(guarded_i, 1.0 + 0.01);
  // Now KL below target by 5: e = 5, I falls by 5e-4 a step. beta leaves 1 once W < 1.
  auto steps_until_below_one = [](Scheduler& s) {
    for (int t = 0; t < 100000; ++t) {
      s.update(step_with(t, 5.0));
      if (s.beta() < 1.0) return t;
    }
    return -1;
  };
  const int plain_steps = steps_until_below_one(*plain), guarded_steps = steps_until_below_one(*guarded);
  EXPECT_GT(plain_steps, guarded_steps + 1000);  // (1.8 - 1) / 5e-4 = 1600 steps of windup
  EXPECT_LT(guarded_steps, 30);
}

TEST(PiController, ResumeIsExact) {
  auto a = make({{"kl_target", 18.0}});
  for (int t = 0; t < 50; ++t) a->update(step_with(t, kl_at(t)));
  auto b = make({{"kl_target", 18.0}});
  b->load_state(json::parse(a->state().dump()));
  for (int t = 50; t < 100; ++t) {
    a->update(step_with(t, kl_at(t)));
    b->update(step_with(t, kl_at(t)));
    ASSERT_EQ(a->beta(), b->beta()) << t;
  }
  EXPECT_EQ(a->state(), b->state());
}

TEST(PiController, BadOptionsAndAMissingRateAreLocatedErrors) {
  EXPECT_EQ(error_place([] { make(json::object()); }), "plugin 'pi_controller': /test/options/kl_target");
  EXPECT_EQ(error_place([] { make({{"kl_target", 1.0}, {"beta_min", 1.0}}); }),
            "plugin 'pi_controller': /test/options/beta_min");
  EXPECT_EQ(error_place([] { make({{"kl_target", 1.0}, {"beta_init", 2.0}}); }),
            "plugin 'pi_controller': /test/options/beta_init");
  EXPECT_THROW(make({{"kl_target", 1.0}, {"ki", 0.1}}), std::exception);
  auto s = make({{"kl_target", 1.0}});
  EXPECT_EQ(error_place([&] { s->update(step_with(0, std::numeric_limits<double>::quiet_NaN())); }), "/test");
}
