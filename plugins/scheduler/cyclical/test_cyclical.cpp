// Scheduler "cyclical" against frange_cycle_linear (haofuml/cyclical_annealing, README.md;
// Fu et al. 2019): period = n_iter / M, step = (stop - start) / (period R); within each cycle
// beta rises by `step` per step from `start` while it is <= stop, then stays at stop.
// Three witnesses: a transcription of the reference function written here, apart from the
// plugin; values that the reference function itself printed under CPython 3 (literal doubles,
// shortest round-trip repr); and hand-computed values (cycle boundaries, mid-ramp, plateau).
#include <cstdint>
#include <vector>

#include <gtest/gtest.h>

#include "test_util.hpp"

namespace {

using priorlab::BuildContext;
using priorlab::Scheduler;
using priorlab::SchedulerInput;
using priorlab::test::error_place;
using priorlab::test::json;

// The reference, transcribed from its README independently of the plugin. Python's `/` on two
// ints and `i + c * period` are float64 operations, as here; `int()` truncates, as the cast does.
std::vector<double> frange_cycle_linear(std::int64_t n_iter, double start = 0.0, double stop = 1.0,
                                        std::int64_t n_cycle = 4, double ratio = 0.5) {
  std::vector<double> L(static_cast<std::size_t>(n_iter), 1.0 * stop);
  const double period = static_cast<double>(n_iter) / static_cast<double>(n_cycle);
  const double step = (stop - start) / (period * ratio);
  for (std::int64_t c = 0; c < n_cycle; ++c) {
    double v = start;
    std::int64_t i = 0;
    while (v <= stop && static_cast<std::int64_t>(static_cast<double>(i) + static_cast<double>(c) * period) < n_iter) {
      L[static_cast<std::size_t>(static_cast<double>(i) + static_cast<double>(c) * period)] = v;
      v += step;
      i += 1;
    }
  }
  return L;
}

std::shared_ptr<Scheduler> make_cyclical(const json& options, std::int64_t total_steps) {
  BuildContext ctx;
  ctx.total_steps = total_steps;
  return priorlab::test::make<Scheduler>("cyclical", options, ctx);
}

SchedulerInput at(std::int64_t step) {
  SchedulerInput in;
  in.step = step;
  return in;
}

// beta for steps from .. to-1, read before each step's update() as the trainer reads it.
std::vector<double> run(Scheduler& s, std::int64_t from, std::int64_t to) {
  std::vector<double> betas;
  for (std::int64_t t = from; t < to; ++t) {
    betas.push_back(s.beta());
    s.update(at(t));
  }
  return betas;
}

TEST(Cyclical, DefaultsAreTheReferences) {
  const auto& entry = priorlab::test::registry().find("cyclical", "scheduler", "/test");
  const json d = entry.options.resolve(json::object(), "/test/options");
  EXPECT_EQ(d.at("cycles").get<std::int64_t>(), 4);
  EXPECT_EQ(d.at("ratio").get<double>(), 0.5);
  EXPECT_EQ(d.at("start").get<double>(), 0.0);
  EXPECT_EQ(d.at("stop").get<double>(), 1.0);
  EXPECT_EQ(d.at("steps").get<std::int64_t>(), 0);
  auto s = make_cyclical(json::object(), 100);
  EXPECT_EQ(s->beta(), 0.0);
  EXPECT_TRUE(s->train_prior());
  EXPECT_EQ(s->phase(), "ramp");
  EXPECT_EQ(s->metrics().at("cycle"), 0.0);
}

TEST(Cyclical, DefaultsOverAHundredStepsByHand) {
  // n = 100, M = 4, R = 0.5: period 25, step 1 / 12.5 = 0.08. Cycle c writes positions 25c + i
  // for i = 0 .. 12 (v = 0.96; the next, 1.04, exceeds stop); positions 25c + 13 .. 25c + 24 keep 1.
  auto s = make_cyclical(json::object(), 100);
  const auto b = run(*s, 0, 100);
  for (int c = 0; c < 4; ++c) {
    for (int i = 0; i <= 12; ++i) EXPECT_NEAR(b[25 * c + i], 0.08 * i, 1e-15) << "cycle " << c << " i " << i;
    for (int i = 13; i < 25; ++i) EXPECT_EQ(b[25 * c + i], 1.0) << "cycle " << c << " i " << i;
  }
  // Cycle boundaries: the last plateau step of a cycle, then start again.
  EXPECT_EQ(b[24], 1.0);
  EXPECT_EQ(b[25], 0.0);
  EXPECT_EQ(b[74], 1.0);
  EXPECT_EQ(b[75], 0.0);
  // The reference's own values (CPython): its accumulation v += 0.08, not i * 0.08.
  EXPECT_EQ(b[6], 0.48000000000000004);
  EXPECT_EQ(b[10], 0.7999999999999999);
  EXPECT_EQ(b[62], 0.9599999999999999);  // cycle 2, i = 12: the top of the ramp
  EXPECT_EQ(b[63], 1.0);                  // the plateau
  // Past the horizon: stop.
  EXPECT_EQ(s->beta(), 1.0);
  EXPECT_EQ(s->phase(), "plateau");
  EXPECT_EQ(s->metrics().at("cycle"), 3.0);
}

TEST(Cyclical, PhaseAndCycleFollowTheStep) {
  auto s = make_cyclical(json::object(), 100);
  run(*s, 0, 12);  // the next step is 12: ramp (0.96)
  EXPECT_EQ(s->phase(), "ramp");
  run(*s, 12, 13);  // 13: plateau
  EXPECT_EQ(s->phase(), "plateau");
  EXPECT_EQ(s->metrics().at("cycle"), 0.0);
  run(*s, 13, 25);  // 25: cycle 1 starts at 0
  EXPECT_EQ(s->beta(), 0.0);
  EXPECT_EQ(s->phase(), "ramp");
  EXPECT_EQ(s->metrics().at("cycle"), 1.0);
}

TEST(Cyclical, NonIntegerPeriodTruncatesLikeTheReference) {
  // n = 10, M = 3, R = 0.5: period 10/3, step 1 / (5/3) = 0.6. Cycle 0 writes L[0] = 0 and
  // L[1] = 0.6 (1.2 > 1 stops it); cycle 1 starts at int(10/3) = 3: L[3] = 0, L[4] = 0.6; cycle 2
  // at int(20/3) = 6: L[6] = 0, L[7] = 0.6; every other entry is 1. The reference printed
  // [0.0, 0.6, 1.0, 0.0, 0.6, 1.0, 0.0, 0.6, 1.0, 1.0].
  auto s = make_cyclical({{"cycles", 3}}, 10);
  const auto b = run(*s, 0, 10);
  const std::vector<double> want = {0.0, 0.6, 1.0, 0.0, 0.6, 1.0, 0.0, 0.6, 1.0, 1.0};
  EXPECT_EQ(b, want);
  EXPECT_EQ(b, frange_cycle_linear(10, 0.0, 1.0, 3, 0.5));
}

TEST(Cyclical, RatioOneNeverReachesStop) {
  // n = 20, M = 2, R = 1, start 0.5: period 10, step 0.05. The accumulated v at i = 10 is
  // 1.0000000000000004 > 1, so no step is 1: cycle 0 ends at L[9] and cycle 1 starts at L[10].
  // Reference output: L[9] = L[19] = 0.9500000000000004, L[10] = 0.5.
  auto s = make_cyclical({{"cycles", 2}, {"ratio", 1.0}, {"start", 0.5}}, 20);
  const auto b = run(*s, 0, 20);
  EXPECT_EQ(b, frange_cycle_linear(20, 0.5, 1.0, 2, 1.0));
  EXPECT_EQ(b[0], 0.5);
  EXPECT_EQ(b[9], 0.9500000000000004);
  EXPECT_EQ(b[10], 0.5);
  EXPECT_EQ(b[19], 0.9500000000000004);
  EXPECT_EQ(s->beta(), 1.0);  // past the horizon
}

TEST(Cyclical, EveryStepMatchesTheTranscription) {
  struct Case {
    std::int64_t n;
    std::int64_t cycles;
    double ratio, start, stop;
  };
  for (const Case& k : {Case{100, 4, 0.5, 0.0, 1.0}, Case{1000, 7, 0.3, 0.1, 0.9}, Case{997, 5, 0.8, 0.0, 1.0},
                        Case{40, 4, 1.0, 0.0, 1.0}, Case{13, 13, 0.5, 0.0, 2.0}, Case{150000, 4, 0.5, 0.0, 1.0}}) {
    auto s = make_cyclical({{"cycles", k.cycles}, {"ratio", k.ratio}, {"start", k.start}, {"stop", k.stop}}, k.n);
    EXPECT_EQ(run(*s, 0, k.n), frange_cycle_linear(k.n, k.start, k.stop, k.cycles, k.ratio)) << "n " << k.n;
  }
  // Values the reference printed for two of them. n = 1000, M = 7, R = 0.3, 0.1 -> 0.9: period
  // 142.857..., cycle 1 starts at int(142.857...) = 142; positions 0 .. 42 of each cycle ramp.
  auto s = make_cyclical({{"cycles", 7}, {"ratio", 0.3}, {"start", 0.1}, {"stop", 0.9}}, 1000);
  const auto b = run(*s, 0, 1000);
  EXPECT_EQ(b[1], 0.11866666666666667);
  EXPECT_EQ(b[42], 0.8840000000000011);
  EXPECT_EQ(b[43], 0.9);
  EXPECT_EQ(b[141], 0.9);
  EXPECT_EQ(b[142], 0.1);
  EXPECT_EQ(b[144], 0.13733333333333334);
  EXPECT_EQ(b[185], 0.9);
  // The defaults over 150,000 steps: mid-ramp and the top of the first ramp, then cycle 2.
  auto d = make_cyclical(json::object(), 150000);
  const auto l = run(*d, 0, 37501);
  EXPECT_EQ(l[9375], 0.5000000000000538);
  EXPECT_EQ(l[18749], 0.9999466666668736);
  EXPECT_EQ(l[18750], 1.0);
  EXPECT_EQ(l[37499], 1.0);
  EXPECT_EQ(l[37500], 0.0);
}

TEST(Cyclical, StepsOverridesTheRunsLength) {
  // steps 100 with a 1000-step run: the four cycles of 25 steps, then stop for the rest.
  auto s = make_cyclical({{"steps", 100}}, 1000);
  const auto b = run(*s, 0, 1000);
  const auto want = frange_cycle_linear(100);
  for (std::int64_t t = 0; t < 100; ++t) EXPECT_EQ(b[t], want[t]) << t;
  for (std::int64_t t = 100; t < 1000; ++t) ASSERT_EQ(b[t], 1.0) << t;
}

TEST(Cyclical, StateRoundTripsExactly) {
  const json options = {{"cycles", 3}, {"ratio", 0.7}, {"start", 0.05}};
  auto a = make_cyclical(options, 211);
  // Before anything is seen.
  auto fresh = make_cyclical(options, 211);
  fresh->load_state(json::parse(a->state().dump()));
  EXPECT_EQ(fresh->state(), a->state());
  run(*a, 0, 37);
  auto b = make_cyclical(options, 211);
  b->load_state(json::parse(a->state().dump()));  // through text, as a checkpoint does
  for (std::int64_t t = 37; t < 260; ++t) {
    ASSERT_EQ(b->beta(), a->beta()) << t;
    ASSERT_EQ(b->phase(), a->phase()) << t;
    ASSERT_EQ(b->metrics(), a->metrics()) << t;
    a->update(at(t));
    b->update(at(t));
  }
}

TEST(Cyclical, ResumeWithMoreIterationsKeepsTheCycles) {
  // A run of 100 steps stopped at step 60 and resumed with training.iterations = 300: the
  // checkpoint's horizon (100) holds, so beta matches the uninterrupted run, stop past 100.
  auto a = make_cyclical(json::object(), 100);
  run(*a, 0, 60);
  auto b = make_cyclical(json::object(), 300);
  b->load_state(json::parse(a->state().dump()));
  EXPECT_EQ(b->state().at("horizon"), 100);
  const auto want = frange_cycle_linear(100);
  const auto got = run(*b, 60, 300);
  for (std::int64_t t = 60; t < 300; ++t) EXPECT_EQ(got[t - 60], t < 100 ? want[t] : 1.0) << t;
}

TEST(Cyclical, RejectsBadOptionsNamingTheJsonPath) {
  // The declaration's ranges (checked before construction).
  EXPECT_EQ(error_place([] { make_cyclical({{"ratio", 0.0}}, 100); }), "/test/options/ratio");
  EXPECT_EQ(error_place([] { make_cyclical({{"ratio", 1.5}}, 100); }), "/test/options/ratio");
  EXPECT_EQ(error_place([] { make_cyclical({{"cycles", 0}}, 100); }), "/test/options/cycles");
  EXPECT_EQ(error_place([] { make_cyclical({{"steps", -1}}, 100); }), "/test/options/steps");
  EXPECT_EQ(error_place([] { make_cyclical({{"start", -0.5}}, 100); }), "/test/options/start");
  EXPECT_EQ(error_place([] { make_cyclical({{"stop", 0.0}}, 100); }), "/test/options/stop");
  // The plugin's own checks.
  EXPECT_EQ(error_place([] { make_cyclical({{"start", 2.0}}, 100); }), "plugin 'cyclical': /test/options/start");
  EXPECT_EQ(error_place([] { make_cyclical({{"start", 1.0}}, 100); }), "plugin 'cyclical': /test/options/start");
  EXPECT_EQ(error_place([] { make_cyclical(json::object(), 0); }), "plugin 'cyclical': /test/options/steps");
  EXPECT_EQ(error_place([] { make_cyclical({{"cycles", 11}}, 10); }), "plugin 'cyclical': /test/options/cycles");
  EXPECT_EQ(error_place([] { make_cyclical({{"cycles", 11}, {"steps", 11}}, 10); }), "none");
}

}  // namespace
