// Scheduler "pi_controller" against ControlVAE's reference PIDControl.pid (shj1987/ControlVAE-
// ICML2020, Image_generation/PID.py; Shao et al. 2020). Three witnesses, each apart from the
// plugin: a transcription of PID.py written here; values that PID.py itself printed under
// CPython 3 (shortest round-trip repr); and values worked out by hand in the comments.
// The plugin's beta for step t + 1 is the reference's output for step t's KL (one step later, as
// the trainer fixes beta before the forward pass); step 0 uses beta_init.
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "test_util.hpp"

namespace {

using priorlab::BuildContext;
using priorlab::Scheduler;
using priorlab::SchedulerInput;
using priorlab::test::error_place;
using priorlab::test::json;

// Python rounds every product to a double before adding; so does `rounded` here, whatever the
// test's -ffp-contract (a fused multiply-add would round Ki * error_k + I_k1 once).
double rounded(double x) {
  volatile double v = x;
  return v;
}

// PIDControl of Image_generation/PID.py, transcribed: I_k1 = W_k1 = e_k1 = 0 at construction;
// pid(exp_KL, kl_loss, Kp, Ki, Kd) returns Wk clipped to [0, 1] (Dk is commented out there).
struct ReferencePid {
  double I_k1 = 0.0, W_k1 = 0.0, e_k1 = 0.0;
  static double Kp_fun(double Err, double scale = 1) { return 1.0 / (1.0 + rounded(scale * std::exp(Err))); }
  double pid(double exp_KL, double kl_loss, double Kp, double Ki) {
    const double error_k = exp_KL - kl_loss;
    const double Pk = rounded(Kp * Kp_fun(error_k));
    double Ik = I_k1 + rounded(Ki * error_k);
    if (W_k1 < 0 && W_k1 >= 1) Ik = I_k1;  // "window up for integrator": never true
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
  ctx.steps_per_epoch = 100;
  return priorlab::test::make<Scheduler>("pi_controller", options, ctx);
}

SchedulerInput step_with(std::int64_t step, double rate) {
  SchedulerInput in;
  in.step = step;
  in.epoch = static_cast<double>(step + 1) / 100.0;
  in.rate = rate;
  return in;
}

// A KL trajectory around the target 18 whose error integrates to a zero-mean oscillation, so
// that with Kp = 0.5, Ki = -0.01 the output crosses both clips repeatedly (in the reference's
// own run below: 168 steps at 0, 179 at 1, 53 between).
double kl_at(std::int64_t t) {
  const double x = static_cast<double>(t);
  return 18.0 + 12.0 * std::cos(0.05 * x) + 3.0 * std::sin(0.31 * x);
}

// Runs steps from .. to-1 on kl_at and returns the beta each update set (for the step after it).
std::vector<double> run(Scheduler& s, std::int64_t from, std::int64_t to) {
  std::vector<double> betas;
  for (std::int64_t t = from; t < to; ++t) {
    s.update(step_with(t, kl_at(t)));
    betas.push_back(s.beta());
  }
  return betas;
}

}  // namespace

TEST(PiController, DeclaresTheReferenceDefaults) {
  const auto& entry = priorlab::test::registry().find("pi_controller", "scheduler", "/test");
  const json d = entry.options.resolve(json::object(), "/test/options");
  EXPECT_EQ(d.at("kl_target").get<double>(), 0.0);  // declared, and refused: a run must set it
  EXPECT_EQ(d.at("kp").get<double>(), 0.01);        // solver.py: Kp = 0.01
  EXPECT_EQ(d.at("ki").get<double>(), -0.0001);     // solver.py: Ki = -0.0001
  EXPECT_EQ(d.at("beta_min").get<double>(), 0.0);   // PID.py: if Wk < 0: Wk = 0.0
  EXPECT_EQ(d.at("beta_max").get<double>(), 1.0);   // PID.py: if Wk > 1: Wk = 1.0
  EXPECT_EQ(d.at("beta_init").get<double>(), 1.0);
  EXPECT_EQ(d.at("anti_windup").get<bool>(), false);  // PID.py's test never holds
  EXPECT_EQ(d.size(), 7u);

  auto s = make({{"kl_target", 25.0}});
  EXPECT_EQ(s->beta(), 1.0);
  EXPECT_TRUE(s->train_prior());
  EXPECT_EQ(s->phase(), "control");
  const auto m = s->metrics();
  EXPECT_EQ(m.at("kl_target"), 25.0);
  EXPECT_EQ(m.at("integral"), 0.0);
  EXPECT_EQ(m.at("kl_error"), 0.0);
  EXPECT_EQ(m.at("output"), 1.0);
  EXPECT_EQ(s->check_baseline(priorlab::ConstraintBaseline{}), json());  // no constraint to guard
}

TEST(PiController, FirstTwoStepsByHand) {
  // Defaults (Kp = 0.01, Ki = -1e-4, [0, 1]), target 10, beta_init 0.5.
  // Step 0, KL 12: e = -2, P = 0.01 / (1 + e^-2) = 0.01 / 1.1353352832 = 0.0088079708,
  //   I = 0 + (-1e-4)(-2) = 2e-4, W = 0.0090079708: beta of step 1.
  // Step 1, KL 9: e = 1, P = 0.01 / (1 + e) = 0.01 / 3.7182818285 = 0.0026894142,
  //   I = 2e-4 + (-1e-4)(1) = 1e-4, W = 0.0027894142: beta of step 2.
  auto s = make({{"kl_target", 10.0}, {"beta_init", 0.5}});
  EXPECT_EQ(s->beta(), 0.5);
  s->update(step_with(0, 12.0));
  EXPECT_NEAR(s->beta(), 0.0090079708, 1e-10);
  EXPECT_DOUBLE_EQ(s->beta(), 0.009007970779778824);  // PID.py printed this
  EXPECT_EQ(s->metrics().at("kl_error"), -2.0);
  EXPECT_NEAR(s->metrics().at("integral"), 2e-4, 1e-18);
  s->update(step_with(1, 9.0));
  EXPECT_NEAR(s->beta(), 0.0027894142, 1e-10);
  EXPECT_DOUBLE_EQ(s->beta(), 0.002789414213699951);  // PID.py printed this
  EXPECT_EQ(s->metrics().at("kl_error"), 1.0);
  EXPECT_NEAR(s->metrics().at("integral"), 1e-4, 1e-18);
  EXPECT_EQ(s->metrics().at("output"), s->beta());  // inside the clip
}

TEST(PiController, OffsetAndBothClipsByHand) {
  // Kp = 0.5, Ki = -0.01, target 10, beta in [0.2, 0.6]: W = P + I + 0.2.
  auto s =
      make({{"kl_target", 10.0}, {"kp", 0.5}, {"ki", -0.01}, {"beta_min", 0.2}, {"beta_max", 0.6}, {"beta_init", 0.2}});
  // KL 10: e = 0, P = 0.5 / 2 = 0.25, I = 0, W = 0.45 (inside).
  s->update(step_with(0, 10.0));
  EXPECT_EQ(s->beta(), 0.45);
  // KL 40: e = -30, P = 0.5 / (1 + e^-30) = 0.5 - 4.7e-14, I = 0.3, W = 1.0 - 4.7e-14: clipped to 0.6.
  s->update(step_with(1, 40.0));
  EXPECT_EQ(s->beta(), 0.6);
  EXPECT_NEAR(s->metrics().at("output"), 1.0, 1e-12);
  EXPECT_NEAR(s->metrics().at("integral"), 0.3, 1e-15);
  // KL 0, three times: e = 10, P = 0.5 / (1 + e^10) = 2.2698e-5, I falls by 0.1 a step.
  const double p10 = 0.5 / (1.0 + 22026.465794806718);
  s->update(step_with(2, 0.0));  // I = 0.2, W = 0.4000227
  EXPECT_NEAR(s->beta(), 0.4 + p10, 1e-12);
  s->update(step_with(3, 0.0));  // I = 0.1, W = 0.3000227
  EXPECT_NEAR(s->beta(), 0.3 + p10, 1e-12);
  s->update(step_with(4, 0.0));  // I = 0.0, W = 0.2000227
  EXPECT_NEAR(s->beta(), 0.2 + p10, 1e-12);
  s->update(step_with(5, 0.0));  // I = -0.1, W = 0.1000227: clipped to 0.2
  EXPECT_EQ(s->beta(), 0.2);
  EXPECT_NEAR(s->metrics().at("output"), 0.1 + p10, 1e-12);
}

TEST(PiController, FollowsTheReferenceStepForStep) {
  // beta_min = 0: W = P + I + 0 is PID.py's Wk to the bit, clipped as there.
  for (const auto& [kp, ki] : std::vector<std::pair<double, double>>{{0.01, -0.0001}, {0.5, -0.01}}) {
    auto s = make({{"kl_target", 18.0}, {"kp", kp}, {"ki", ki}});
    ReferencePid ref;
    int at_zero = 0, at_one = 0;
    for (std::int64_t t = 0; t < 400; ++t) {
      const double want = ref.pid(18.0, kl_at(t), kp, ki);
      s->update(step_with(t, kl_at(t)));
      ASSERT_EQ(s->beta(), want) << "Kp " << kp << ", step " << t;
      ASSERT_EQ(s->metrics().at("integral"), ref.I_k1) << t;
      ASSERT_EQ(s->metrics().at("output"), ref.W_k1) << t;
      ASSERT_EQ(s->metrics().at("kl_error"), ref.e_k1) << t;
      at_zero += want == 0.0, at_one += want == 1.0;
    }
    if (kp == 0.5) {
      EXPECT_EQ(at_zero, 168);
      EXPECT_EQ(at_one, 179);
    } else {
      EXPECT_EQ(at_zero, 155);
      EXPECT_EQ(at_one, 0);
    }
  }
}

TEST(PiController, MatchesWhatPidPyPrinted) {
  // python3: from PID import PIDControl; pid = PIDControl(); for t in range(400): w, e =
  // pid.pid(18.0, kl_at(t), Kp, Ki, 0.0), with kl_at as above (math.cos, math.sin); repr(w).
  struct Row {
    double kp, ki;
    std::vector<std::pair<int, double>> beta;
    double integral, output;  // pid.I_k1, pid.W_k1 after step 399
  };
  const std::vector<Row> rows = {
      {0.01,
       -0.0001,
       {{0, 0.011199938558253977},
        {1, 0.012489992927438074},
        {2, 0.01385832203477894},
        {49, 0.017313603443181624},
        {99, 0.0},
        {199, 0.0},
        {399, 0.03281720687335291}},
       0.023459667659997255,
       0.03281720687335291},
      {0.5,
       -0.01,
       {{0, 0.6199969279126989},
        {1, 0.7490005415422534},
        {2, 0.8858327742340377},
        {49, 1.0},
        {99, 0.0},
        {199, 0.0},
        {399, 1.0}},
       2.345966765999729,
       2.8138437266675123},
  };
  for (const auto& row : rows) {
    auto s = make({{"kl_target", 18.0}, {"kp", row.kp}, {"ki", row.ki}});
    std::size_t next = 0;
    for (int t = 0; t < 400; ++t) {
      s->update(step_with(t, kl_at(t)));
      if (next < row.beta.size() && row.beta[next].first == t) {
        EXPECT_DOUBLE_EQ(s->beta(), row.beta[next].second) << t;
        ++next;
      }
    }
    EXPECT_EQ(next, row.beta.size());
    EXPECT_DOUBLE_EQ(s->metrics().at("integral"), row.integral);
    EXPECT_DOUBLE_EQ(s->metrics().at("output"), row.output);
  }
}

TEST(PiController, TheErrorIsNotClippedAndExpOverflowGivesNoProportionalTerm) {
  // KL 0 against target 800: e = 800, exp(800) = inf, P = Kp / inf = 0 (PID.py raises
  // OverflowError there); I = -1e-4 x 800 = -0.08, W = -0.08: beta 0.
  auto s = make({{"kl_target", 800.0}});
  s->update(step_with(0, 0.0));
  EXPECT_EQ(s->metrics().at("kl_error"), 800.0);
  EXPECT_EQ(s->metrics().at("integral"), -1e-4 * 800.0);
  EXPECT_EQ(s->metrics().at("output"), -1e-4 * 800.0);  // P contributed exactly 0
  EXPECT_EQ(s->beta(), 0.0);
  // KL 1800: e = -1000, exp(-1000) = 0, P = Kp exactly; I = -0.08 + 0.1 = 0.02, W = 0.03.
  s->update(step_with(1, 1800.0));
  EXPECT_EQ(s->metrics().at("integral"), -1e-4 * 800.0 + -1e-4 * -1000.0);
  EXPECT_EQ(s->beta(), 0.01 + (-1e-4 * 800.0 + -1e-4 * -1000.0));
}

TEST(PiController, WithoutAntiWindupTheIntegralWindsUpAsInTheReference) {
  // Kp = 0.01, Ki = -0.01, target 10. KL 60 for 3 steps: e = -50, I += 0.5 each: 0.5, 1.0, 1.5
  // (W = 0.51, 1.01, 1.51; beta 0.51, 1, 1). Then KL 9: e = 1, I falls by 0.01 a step, and
  // P = 0.01 / (1 + e) = 0.0026894. beta stays 1 while I + P >= 1, i.e. while I > 0.9973106:
  // I = 1.5 - 0.01 n drops below it at n = 51 (I = 0.99), so 50 more steps at beta = 1.
  auto s = make({{"kl_target", 10.0}, {"ki", -0.01}});
  for (int t = 0; t < 3; ++t) s->update(step_with(t, 60.0));
  EXPECT_NEAR(s->metrics().at("integral"), 1.5, 1e-15);
  EXPECT_EQ(s->beta(), 1.0);
  int n = 0;
  while (s->beta() == 1.0 && n < 1000) s->update(step_with(3 + n++, 9.0));
  EXPECT_EQ(n, 51);
  EXPECT_NEAR(s->beta(), 0.99 + 0.01 / (1.0 + std::exp(1.0)), 1e-12);
}

TEST(PiController, AntiWindupHoldsTheIntegralOnlyWhileTheErrorPushesFurtherOut) {
  // As above with anti_windup. Step 0: previous output beta_init = 1 is inside: I = 0.5, W = 0.51.
  // Step 1: 0.51 inside: I = 1.0, W = 1.01 > 1. Step 2: W_1 = 1.01 > 1 and Ki e = +0.5 would raise
  // it: held, I = 1.0, W = 1.01. Step 3, KL 9: Ki e = -0.01 lowers it: I = 0.99, W = 0.99 + P.
  // (Holding I whenever W_{t-1} > 1 would keep I = 1.0, W = 1.0027 > 1, beta = 1 for ever.)
  auto s = make({{"kl_target", 10.0}, {"ki", -0.01}, {"anti_windup", true}});
  s->update(step_with(0, 60.0));
  EXPECT_NEAR(s->metrics().at("integral"), 0.5, 1e-15);
  s->update(step_with(1, 60.0));
  EXPECT_NEAR(s->metrics().at("integral"), 1.0, 1e-15);
  EXPECT_EQ(s->beta(), 1.0);
  for (int t = 2; t < 100; ++t) s->update(step_with(t, 60.0));
  EXPECT_NEAR(s->metrics().at("integral"), 1.0, 1e-15);  // held for 98 steps
  EXPECT_EQ(s->beta(), 1.0);
  s->update(step_with(100, 9.0));
  EXPECT_NEAR(s->metrics().at("integral"), 0.99, 1e-15);
  EXPECT_NEAR(s->beta(), 0.99 + 0.01 / (1.0 + std::exp(1.0)), 1e-12);

  // The lower clip, mirrored: target 10, KL 0 (e = 10, Ki e = -0.1, P = 0.01 / (1 + e^10) =
  // 4.54e-7). Previous outputs: 0.99 + P(1) inside: I = 0.89; then 0.79, ..., until W < 0:
  // I = 0.99 - 0.1 k, W < 0 first at k = 10 (I = -0.01); held there while KL stays 0.
  for (int t = 101; t < 200; ++t) s->update(step_with(t, 0.0));
  EXPECT_NEAR(s->metrics().at("integral"), -0.01, 1e-12);
  EXPECT_EQ(s->beta(), 0.0);
  // KL 20: e = -10, Ki e = +0.1 raises it: I = 0.09, P = 0.01 / (1 + e^-10) = 0.0099995.
  s->update(step_with(200, 20.0));
  EXPECT_NEAR(s->metrics().at("integral"), 0.09, 1e-12);
  EXPECT_NEAR(s->beta(), 0.09 + 0.01 / (1.0 + std::exp(-10.0)), 1e-12);
}

TEST(PiController, ResumeIsExact) {
  // 50 steps; state() through JSON text into a fresh scheduler; then 50 more on both, which give
  // the same beta to the bit. Defaults, and Kp 0.5 with anti_windup inside [0.1, 0.8], where the
  // previous output W (anti-windup's input) is part of the state too.
  const std::vector<json> settings = {
      {{"kl_target", 18.0}},
      {{"kl_target", 18.0},
       {"kp", 0.5},
       {"ki", -0.01},
       {"beta_min", 0.1},
       {"beta_max", 0.8},
       {"beta_init", 0.5},
       {"anti_windup", true}},
  };
  for (const auto& options : settings) {
    auto a = make(options);
    run(*a, 0, 50);
    const json saved = json::parse(a->state().dump());
    auto b = make(options);
    b->load_state(saved);
    EXPECT_EQ(b->beta(), a->beta());
    EXPECT_EQ(b->metrics(), a->metrics());
    const auto from_a = run(*a, 50, 100), from_b = run(*b, 50, 100);
    EXPECT_EQ(from_a, from_b) << options.dump();
    EXPECT_EQ(a->state(), b->state());

    // The test can fail: a restore that lost I (here: I off by 0.05) gives other betas.
    json wrong = saved;
    wrong["integral"] = saved["integral"].get<double>() + 0.05;
    auto c = make(options);
    c->load_state(wrong);
    EXPECT_NE(run(*c, 50, 100), from_a) << options.dump();
  }
  // With anti_windup a restore that lost W does too. W_49 = 0.087 lies below beta_min = 0.1, and
  // step 50's error e_50 = -12 cos 2.5 - 3 sin 15.5 = 9.6137 - 0.6194 = 8.9943 > 0 (Ki e < 0) pushes
  // it further down, so the run holds I at step 50; from a state whose W was inside (0.5) it
  // integrates: I_50 is Ki e_50 = -0.089943 lower, and the betas that follow differ.
  const json options = settings[1];
  auto a = make(options);
  run(*a, 0, 50);
  ASSERT_LT(a->metrics().at("output"), 0.1);
  json wrong = a->state();
  wrong["output"] = 0.5;
  auto c = make(options);
  c->load_state(wrong);
  const double e50 = 18.0 - kl_at(50);
  EXPECT_NEAR(e50, 8.9943, 1e-4);
  run(*a, 50, 51);
  run(*c, 50, 51);
  EXPECT_NEAR(c->metrics().at("integral") - a->metrics().at("integral"), -0.01 * e50, 1e-12);
  EXPECT_NE(run(*c, 51, 100), run(*a, 51, 100));

  auto s = make({{"kl_target", 18.0}});
  EXPECT_EQ(error_place([&] { s->load_state(json{{"beta", 0.5}}); }), "scheduler state");
}

TEST(PiController, BadOptionsAreLocatedErrors) {
  // Where building the scheduler with `options` fails ("none" where it does not).
  auto place = [](const json& options) { return error_place([&] { make(options); }); };
  // Ranges the declaration checks, at the option's JSON path.
  EXPECT_EQ(place({{"kl_target", -1.0}}), "/test/options/kl_target");
  EXPECT_EQ(place({{"kl_target", 1.0}, {"kp", -0.01}}), "/test/options/kp");
  EXPECT_EQ(place({{"kl_target", 1.0}, {"ki", 1e-4}}), "/test/options/ki");
  EXPECT_EQ(place({{"kl_target", 1.0}, {"beta_min", -0.1}}), "/test/options/beta_min");
  EXPECT_EQ(place({{"kl_target", 1.0}, {"beta_max", 0.0}}), "/test/options/beta_max");
  EXPECT_EQ(place({{"kl_target", 1.0}, {"beta_init", -1.0}}), "/test/options/beta_init");
  EXPECT_EQ(place({{"kl_target", 1.0}, {"anti_windup", 1}}), "/test/options/anti_windup");
  EXPECT_EQ(place({{"kl_target", 1.0}, {"period", 10}}), "/test/options/period");  // the reference has none
  // What the constructor checks, named with the plugin.
  const std::string plugin = "plugin 'pi_controller': ";
  EXPECT_EQ(place(json::object()), plugin + "/test/options/kl_target");
  EXPECT_EQ(place({{"kl_target", 1.0}, {"beta_min", 1.0}}), plugin + "/test/options/beta_min");
  EXPECT_EQ(place({{"kl_target", 1.0}, {"beta_min", 0.5}, {"beta_max", 0.4}, {"beta_init", 0.45}}),
            plugin + "/test/options/beta_min");
  EXPECT_EQ(place({{"kl_target", 1.0}, {"beta_init", 2.0}}), plugin + "/test/options/beta_init");
  EXPECT_EQ(place({{"kl_target", 1.0}, {"beta_min", 0.3}, {"beta_init", 0.2}}), plugin + "/test/options/beta_init");
  EXPECT_EQ(place({{"kl_target", 1.0}, {"kp", std::numeric_limits<double>::infinity()}}), plugin + "/test/options/kp");
  EXPECT_EQ(place({{"kl_target", std::numeric_limits<double>::infinity()}}), plugin + "/test/options/kl_target");
  // Accepted: a P-only controller (ki = 0, here also kp = 0: beta = beta_min throughout).
  EXPECT_EQ(place({{"kl_target", 1e-3}, {"ki", 0.0}, {"kp", 0.0}}), "none");
}

TEST(PiController, AMissingRateIsALocatedError) {
  auto s = make({{"kl_target", 18.0}});
  s->update(step_with(0, 17.0));
  const double before = s->beta();
  for (const double bad : {std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::infinity()}) {
    try {
      s->update(step_with(7, bad));
      ADD_FAILURE() << "rate " << bad << " accepted";
    } catch (const priorlab::Error& e) {
      EXPECT_EQ(e.where(), "/test");
      EXPECT_NE(e.message().find("step 8"), std::string::npos) << e.message();
      EXPECT_NE(e.message().find("SchedulerInput::rate"), std::string::npos) << e.message();
    }
  }
  EXPECT_EQ(s->beta(), before);  // nothing changed
  SchedulerInput unknown;        // the SDK's default: NaN
  EXPECT_EQ(error_place([&] { s->update(unknown); }), "/test");
}
