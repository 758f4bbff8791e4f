// The pendulum generator: deterministic from its seed, angles uniform in [0, 2pi), and each
// image really shows its angle (checked through the image's intensity centroid).
#include <cmath>

#include <gtest/gtest.h>

#include "test_util.hpp"

using namespace priorlab;
using test::json;

TEST(Pendulum, SameSeedSameImagesOtherSeedOtherImages) {
  auto a = test::make<Dataset>("pendulum", {{"size", 50}, {"seed", 7}});
  auto b = test::make<Dataset>("pendulum", {{"size", 50}, {"seed", 7}});
  auto c = test::make<Dataset>("pendulum", {{"size", 50}, {"seed", 8}});
  const auto idx = torch::arange(45);
  EXPECT_TRUE(torch::equal(a->get(Split::Train, idx, 0).x, b->get(Split::Train, idx, 1).x));
  EXPECT_FALSE(torch::equal(a->get(Split::Train, idx, 0).x, c->get(Split::Train, idx, 0).x));
  EXPECT_EQ(a->size(Split::Test), 5);
  EXPECT_EQ(a->info().shape, (std::vector<int64_t>{1, 16, 16}));
}

TEST(Pendulum, AnglesAreUniformOnTheCircle) {
  auto d = test::make<Dataset>("pendulum", {{"size", 4000}, {"test_fraction", 0.5}});
  const auto angles = d->get(Split::Train, torch::arange(2000), 0).label.to(torch::kDouble);
  EXPECT_GE(angles.min().item<double>(), 0.0);
  EXPECT_LT(angles.max().item<double>(), 2 * M_PI);
  // Uniform on [0, 2pi): mean pi, variance (2pi)^2/12; standard errors 0.041 and 0.05.
  EXPECT_NEAR(angles.mean().item<double>(), M_PI, 0.2);
  EXPECT_NEAR(angles.var().item<double>(), 4 * M_PI * M_PI / 12, 0.25);
}

TEST(Pendulum, IntensityCentroidPointsAlongTheLabelledAngle) {
  auto d = test::make<Dataset>("pendulum", {{"size", 200}});
  const auto b = d->get(Split::Train, torch::arange(100), 0);
  const auto img = b.x.squeeze(1).to(torch::kDouble);  // [N, 16, 16]
  const auto coords = torch::arange(16, torch::kDouble) + 0.5 - 8.0;  // pixel centres about the pivot
  const auto mass = img.sum({1, 2});
  const auto cx = (img * coords.view({1, 1, 16})).sum({1, 2}) / mass;
  const auto cy = (img * coords.view({1, 16, 1})).sum({1, 2}) / mass;
  // Angle 0 points down (+y in image rows) and grows towards +x: theta = atan2(x, y).
  const auto theta = torch::atan2(cx, cy);
  const auto diff = torch::remainder(theta - b.label.to(torch::kDouble) + M_PI, 2 * M_PI) - M_PI;
  EXPECT_LT(diff.abs().max().item<double>(), 0.15);
  EXPECT_GT(img.max().item<double>(), 0.99);
  EXPECT_GE(img.min().item<double>(), 0.0);
}

TEST(Pendulum, OutOfRangeIndexIsALocatedError) {
  auto d = test::make<Dataset>("pendulum", {{"size", 20}});
  try {
    d->get(Split::Test, torch::tensor({0, 5}), 0);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "test: index 5 out of range [0, 2)");
  }
}
