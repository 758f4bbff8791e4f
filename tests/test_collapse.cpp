// Collapse diagnostics (host/engine/collapse.hpp): every run measures each stochastic layer on a
// probe set and says when one has died. Checked on hand-built models whose activity and KL are
// derived on paper: data on the unit circle, an identity encoder (z = x), and upper layers
// q(zeta|z) that are either the prior N(0, I) itself or a linear Gaussian with a known KL.
#include <cmath>

#include <gtest/gtest.h>

#include "circle_model.hpp"
#include "engine/collapse.hpp"
#include "priorlab/diagnostics.hpp"
#include "test_util.hpp"

using namespace priorlab;
using namespace priorlab::host;
using test::json;

namespace {

/// 64 points on the unit circle as the training split: z = x, so Var_n(z_d) = 1/2 for both
/// dimensions (the mean of cos^2 over a full period) and z has 2 active units.
class Ring : public TensorDataset {
 public:
  Ring() {
    info_.shape = {2};
    const auto a = torch::arange(64, torch::kDouble) * (2 * M_PI / 64);
    set_split(Split::Train, torch::stack({torch::cos(a), torch::sin(a)}, 1).to(torch::kFloat), a);
  }
};

/// q(zeta|z) = p(zeta) = N(0, I) for every z: the dead upper layer of a collapsed VHP.
class DeadUpper : public test::CirclePrior {
 public:
  DiagGaussian upper_posterior(const torch::Tensor& z) override { return {torch::zeros_like(z), torch::zeros_like(z)}; }
};

/// q(zeta|z) = N((2 z_0 + 0.5, 0.3), diag(0.25, 0.25)); `alive` false makes it DeadUpper's.
class LinearUpper : public test::CirclePrior {
 public:
  bool alive = true;
  DiagGaussian upper_posterior(const torch::Tensor& z) override {
    if (!alive) return {torch::zeros_like(z), torch::zeros_like(z)};
    const auto mu = torch::stack({2 * z.select(-1, 0) + 0.5, torch::full_like(z.select(-1, 0), 0.3)}, -1);
    return {mu, torch::full_like(mu, std::log(0.25))};
  }
};

Pipeline pipeline_with(std::shared_ptr<Prior> prior) {
  Pipeline p;
  p.dataset = std::make_shared<Ring>();
  p.network = std::make_shared<test::Identity>();
  p.prior = std::move(prior);
  return p;
}

CollapseOptions options(std::int64_t patience) {
  CollapseOptions o;
  o.examples = 1000;  // more than the 64 points: the probe is the whole split
  o.patience = patience;
  return o;
}

}  // namespace

TEST(Collapse, AnUpperPosteriorEqualToItsPriorIsReportedCollapsedAfterThePatience) {
  Pipeline p = pipeline_with(std::make_shared<DeadUpper>());
  CollapseMonitor monitor(p, options(3));
  json record;
  EXPECT_TRUE(monitor.observe(100, true, 12.5, record).empty());
  EXPECT_EQ(record["z_active_units"], 2);
  EXPECT_EQ(record["zeta_active_units"], 0);
  EXPECT_EQ(record["zeta_kl"], 0.0);  // KL(N(0, I) || N(0, I)) = 0 exactly
  EXPECT_TRUE(monitor.observe(200, true, 12.5, record).empty());
  const auto said = monitor.observe(300, true, 12.5, record);
  ASSERT_EQ(said.size(), 1u);
  EXPECT_EQ(said[0],
            "the second stochastic layer (zeta) has collapsed since step 100: q(zeta|z) ~ p(zeta) (KL 0 nats, 0 of 2 "
            "units active)");
  EXPECT_TRUE(monitor.observe(400, true, 12.5, record).empty()) << "said once, not every interval";
  const json s = monitor.summary();
  EXPECT_FALSE(s["all_alive"].get<bool>());
  EXPECT_EQ(s["probe_examples"], 64);
  ASSERT_EQ(s["layers"].size(), 2u);
  EXPECT_EQ(s["layers"][0]["name"], "z");
  EXPECT_TRUE(s["layers"][0]["alive"].get<bool>());
  EXPECT_EQ(s["layers"][0]["rate"], 12.5);
  EXPECT_FALSE(s["layers"][1]["alive"].get<bool>());
  EXPECT_EQ(s["layers"][1]["collapsed_since_step"], 100);
  EXPECT_EQ(s["verdict"], said[0]);
}

TEST(Collapse, IntervalsWhileThePriorIsFrozenDoNotCount) {
  // REWO's initial phase leaves the prior at its initialisation: a dead-looking upper layer there
  // has not collapsed, it has not started.
  Pipeline p = pipeline_with(std::make_shared<DeadUpper>());
  CollapseMonitor monitor(p, options(2));
  json record;
  for (std::int64_t step = 100; step <= 500; step += 100) EXPECT_TRUE(monitor.observe(step, false, 1, record).empty());
  EXPECT_FALSE(monitor.summary()["layers"][1].contains("collapsed_since_step"));
  EXPECT_TRUE(monitor.observe(600, true, 1, record).empty());
  const auto said = monitor.observe(700, true, 1, record);
  ASSERT_EQ(said.size(), 1u);
  EXPECT_NE(said[0].find("since step 600"), std::string::npos) << said[0];
}

TEST(Collapse, ALinearHierarchicalModelIsReportedWithItsClosedFormKL) {
  // Per example n (z = (cos a_n, sin a_n)), KL(N(m, s^2) || N(0, 1)) = 1/2 (s^2 + m^2 - 1 - log s^2):
  //   zeta_0: m = 2 cos a_n + 0.5, mean over the circle of m^2 = 4 * 1/2 + 0.25 = 2.25
  //   zeta_1: m = 0.3, m^2 = 0.09;   s^2 = 0.25 in both.
  const double kl0 = 0.5 * (0.25 + 2.25 - 1 - std::log(0.25)), kl1 = 0.5 * (0.25 + 0.09 - 1 - std::log(0.25));
  Pipeline p = pipeline_with(std::make_shared<LinearUpper>());
  CollapseMonitor monitor(p, options(1));
  json record;
  EXPECT_TRUE(monitor.observe(100, true, 3, record).empty());
  EXPECT_NEAR(record["zeta_kl"].get<double>(), kl0 + kl1, 1e-6);
  // Activity: Var_n(2 cos a_n + 0.5) = 4 * 1/2 = 2 for zeta_0; zeta_1 is constant.
  EXPECT_EQ(record["zeta_active_units"], 1);
  const json s = monitor.summary();
  EXPECT_TRUE(s["all_alive"].get<bool>());
  EXPECT_EQ(s["verdict"], "every stochastic layer is alive (z: 2 of 2 units active, zeta: 1 of 2 units active)");
  // The SDK's helper, which the active_units evaluator uses too, agrees dimension by dimension.
  const auto layers = upper_layer_activity(*p.prior, p.dataset->get(Split::Train, torch::arange(64), 0).x);
  ASSERT_EQ(layers.size(), 1u);
  EXPECT_NEAR(layers[0].activity[0].item<double>(), 2.0, 1e-5);
  EXPECT_NEAR(layers[0].kl[1].item<double>(), kl1, 1e-6);
}

TEST(Collapse, ALayerThatWakesIsSaidAndTheCountersSurviveACheckpoint) {
  auto prior = std::make_shared<LinearUpper>();
  prior->alive = false;
  Pipeline p = pipeline_with(prior);
  CollapseMonitor monitor(p, options(2));
  json record;
  monitor.observe(100, true, 1, record);
  // Resumed from a checkpoint taken here: the restored monitor says what this one would.
  CollapseMonitor resumed(p, options(2));
  resumed.load_state(json::parse(monitor.state().dump()));
  const auto a = monitor.observe(200, true, 1, record), b = resumed.observe(200, true, 1, record);
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a, b);
  prior->alive = true;
  const auto woke = monitor.observe(300, true, 1, record);
  ASSERT_EQ(woke.size(), 1u);
  EXPECT_EQ(woke[0].rfind("the second stochastic layer (zeta) is active again at step 300 (1 of 2 units active", 0), 0u)
      << woke[0];
  EXPECT_TRUE(monitor.summary()["all_alive"].get<bool>());
}

TEST(Collapse, APriorWithoutUpperLayersReportsZAlone) {
  Pipeline p = pipeline_with(std::make_shared<test::CirclePrior>());
  CollapseMonitor monitor(p, options(1));
  json record;
  monitor.observe(10, true, 1, record);
  EXPECT_EQ(record.count("zeta_active_units"), 0u);
  EXPECT_EQ(monitor.summary()["layers"].size(), 1u);
}

TEST(Collapse, EveryRunRecordsEachLayerAndItsSummarySaysWhichAreAlive) {
  // A short VHP run through the command line: the metrics lines carry both layers, summary.json
  // the collapse section, and the run's closing lines name every layer.
  test::TempDir dir;
  json c = test::small_pipeline(60);
  c["prior"] = {{"plugin", "vhp"}, {"options", {{"hidden", {16}}, {"samples", 2}}}};
  c["scheduler"] = {{"plugin", "constant"}};
  c["evaluators"] = json::array();
  const auto r = test::run_cli("run " + test::write_config(dir, c) + " --out " + dir.str(), dir.str());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto lines = test::read_metrics(dir.path() / "small" / "metrics.jsonl");
  ASSERT_EQ(lines.size(), 3u);
  for (const auto& l : lines) {
    EXPECT_TRUE(l.contains("z_active_units")) << l.dump();
    EXPECT_GE(l["zeta_kl"].get<double>(), 0.0) << l.dump();
  }
  const json summary = json::parse(test::read_text(dir.path() / "small" / "summary.json"));
  ASSERT_TRUE(summary.contains("collapse")) << summary.dump();
  EXPECT_EQ(summary["collapse"]["step"], 60);
  EXPECT_EQ(summary["collapse"]["layers"][1]["name"], "zeta");
  EXPECT_EQ(summary["collapse"]["layers"][1]["kl"], lines.back()["zeta_kl"]);
  EXPECT_NE(r.output.find("stochastic layers"), std::string::npos) << r.output;
}
