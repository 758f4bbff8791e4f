// smoothness on the hand-built circle model: every path runs along the unit circle in steps of
// at most a few node spacings, so each second difference is a chord-turn of size about
// 2 (1 - cos(step angle)) plus the unevenness of the steps — far below the 2 of a path that
// jumps across; G x P paths are all counted.
#include <gtest/gtest.h>

#include "circle_model.hpp"

using namespace priorlab;

TEST(Smoothness, PathsAlongTheCircleAreSmoothAndAllCounted) {
  torch::manual_seed(0);
  test::CirclePoints data;
  test::Identity net;
  test::CirclePrior prior;
  auto eval = test::make<Evaluator>("smoothness", {{"graphs", 2}, {"interpolations", 4}, {"nodes", 300}, {"neighbours", 12}});
  EvalContext ctx = test::eval_context(&net, &prior, &data);
  ctx.seed = 5;
  const auto r = eval->evaluate(ctx);
  EXPECT_EQ(r.metrics.at("paths") + r.metrics.at("skipped"), 8);
  EXPECT_GE(r.metrics.at("paths"), 6);  // only pairs less than 3 frames apart are skipped
  EXPECT_GT(r.metrics.at("rms_mean"), 0.0);
  EXPECT_LT(r.metrics.at("rms_mean"), 0.1);
  EXPECT_TRUE(r.artefacts.empty());  // 2-D vectors, not images
}
