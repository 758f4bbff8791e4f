// active_units on an encoder built by hand: dimension 0 copies the data (variance of a uniform
// angle on [0, 2pi): (2pi)^2 / 12 = 3.29), dimension 1 is constant (dead), dimension 2 moves by
// 0.05 * cos (variance 0.05^2 / 2 = 0.00125 < 0.01: inactive). Its KL column is checked against
// 1/2 (exp(lv) + mu^2 - 1 - lv) computed here.
#include <cmath>

#include <gtest/gtest.h>

#include "circle_model.hpp"

using namespace priorlab;

namespace {

class ThreeDims : public test::Identity {
 public:
  std::int64_t latent_dim() const override { return 3; }
  DiagGaussian encode(const torch::Tensor& x) override {
    // x are points on the unit circle; their angle in [0, 2pi) drives dimension 0.
    const auto angle = torch::remainder(torch::atan2(x.select(1, 1), x.select(1, 0)), 2 * M_PI).to(torch::kDouble);
    const auto mu = torch::stack({angle, torch::full_like(angle, 0.7), 0.05 * torch::cos(angle)}, 1);
    return {mu, torch::full_like(mu, std::log(0.5))};
  }
};

}  // namespace

TEST(ActiveUnits, FindsTheDimensionsTheModelLeavesDead) {
  test::CirclePoints data;  // 64 evenly spaced angles
  ThreeDims net;
  test::CirclePrior prior;
  test::TempDir dir;
  auto eval = test::make<Evaluator>("active_units");
  EvalContext ctx = test::eval_context(&net, &prior, &data, dir.str());
  const auto r = eval->evaluate(ctx);
  EXPECT_EQ(r.metrics.at("active_units"), 1);
  EXPECT_EQ(r.metrics.at("dimensions"), 3);
  // 64 evenly spaced values k * 2pi/64: variance (2pi/64)^2 (64^2 - 1) / 12.
  EXPECT_NEAR(r.metrics.at("activity_0"), std::pow(2 * M_PI / 64, 2) * (64 * 64 - 1) / 12, 1e-6);  // data are floats
  EXPECT_NEAR(r.metrics.at("activity_1"), 0.0, 1e-12);
  EXPECT_NEAR(r.metrics.at("activity_2"), 0.05 * 0.05 / 2, 1e-9);  // mean of cos^2 over a full period
  // KL of dimension 1: mu = 0.7, var = 0.5: 1/2 (0.5 + 0.49 - 1 - log 0.5).
  EXPECT_NEAR(r.metrics.at("kl_1"), 0.5 * (0.5 + 0.49 - 1 - std::log(0.5)), 1e-6);
  test::expect_picture(dir.path() / "active_units.png");
}

namespace {

/// A prior with an upper layer: q(ζ|z) = N((2 z_0, 0.3), diag(0.25)), so ζ_0 moves twice as
/// much as z_0 (activity x4) and ζ_1 is dead.
class TwoLayerPrior : public test::CirclePrior {
 public:
  DiagGaussian upper_posterior(const torch::Tensor& z) override {
    const auto mu = torch::stack({2 * z.select(-1, 0), torch::full_like(z.select(-1, 0), 0.3)}, -1);
    return {mu, torch::full_like(mu, std::log(0.25))};
  }
};

}  // namespace

TEST(ActiveUnits, ReportsTheUpperLayerOfAHierarchicalPrior) {
  test::CirclePoints data;
  ThreeDims net;
  TwoLayerPrior prior;
  test::TempDir dir;
  const auto r = test::make<Evaluator>("active_units")->evaluate(test::eval_context(&net, &prior, &data, dir.str()));
  EXPECT_EQ(r.metrics.at("zeta_active_units"), 1);
  EXPECT_EQ(r.metrics.at("zeta_dimensions"), 2);
  EXPECT_NEAR(r.metrics.at("zeta_activity_0"), 4 * r.metrics.at("activity_0"), 1e-5);
  EXPECT_NEAR(r.metrics.at("zeta_activity_1"), 0.0, 1e-12);
  EXPECT_NEAR(r.metrics.at("zeta_kl_1"), 0.5 * (0.25 + 0.09 - 1 - std::log(0.25)), 1e-6);
  test::expect_picture(dir.path() / "active_units_zeta.png");
  // A prior without an upper layer (the first test's) reports no zeta metrics.
  test::CirclePrior flat;
  const auto f = test::make<Evaluator>("active_units")->evaluate(test::eval_context(&net, &flat, &data, dir.str()));
  EXPECT_EQ(f.metrics.count("zeta_active_units"), 0u);
}
