// graph_interpolation on a hand-built model: data and latent are the same 2-D points, the
// prior's samples lie on the unit circle, so the path from angle 0 to angle pi must follow the
// circle (latent length near pi, every frame near radius 1), never cut across (length 2).
#include <cmath>

#include <gtest/gtest.h>
#if PRIORLAB_WITH_OPENCV
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#endif

#include "circle_model.hpp"

using namespace priorlab;

using test::CirclePoints;
using test::CirclePrior;
using test::Identity;

TEST(GraphInterpolation, PathFollowsThePriorAroundTheCircle) {
  torch::manual_seed(0);
  CirclePoints data;
  Identity net;
  CirclePrior prior;
  auto eval = test::make<Evaluator>("graph_interpolation", {{"nodes", 400}, {"neighbours", 12}, {"to_label", M_PI}});
  test::TempDir dir;
  EvalContext ctx = test::eval_context(&net, &prior, &data, dir.str());
  const auto r = eval->evaluate(ctx);
  // Around: at least the half circle pi (minus chord shortening, under 1% for 400 nodes);
  // across would be 2.
  EXPECT_GT(r.metrics.at("path_length"), 0.99 * M_PI);
  EXPECT_LT(r.metrics.at("path_length"), 1.05 * M_PI);
  // Hops are bounded by the neighbourhood: 12 neighbours of 400 points span about +-6 mean
  // spacings (6 * 2pi/400 = 0.09) on each side, so half the circle takes well over 10 hops.
  EXPECT_GT(r.metrics.at("hops"), 10);
  // Consecutive frames are graph neighbours: a few spacings apart (RMS over the 2 values),
  // far below the jump of a path cutting across the diameter (2 / sqrt 2 = 1.41).
  EXPECT_LT(r.metrics.at("max_jump"), 0.3);
  // 2-D vectors are not images: no strip; the latent space is a plane: the graph over it.
  ASSERT_EQ(r.artefacts, test::pictures({"interpolation_graph_0.png"}));
#if PRIORLAB_WITH_OPENCV
  const cv::Mat img = cv::imread((dir.path() / "interpolation_graph_0.png").string());
  ASSERT_FALSE(img.empty());
  // The path is drawn in black, 3 px wide, over a half circle: hundreds of black pixels; the
  // edges are light grey (205): thousands of them.
  cv::Mat grey;
  cv::cvtColor(img, grey, cv::COLOR_BGR2GRAY);
  EXPECT_GT(cv::countNonZero(grey < 30), 300);
  EXPECT_GT(cv::countNonZero((grey > 195) & (grey < 215)), 1000);
#endif
}

TEST(GraphInterpolation, RandomEndpointsGiveOneResultPerPair) {
  torch::manual_seed(1);
  CirclePoints data;
  Identity net;
  CirclePrior prior;
  auto eval = test::make<Evaluator>("graph_interpolation",
                                    {{"nodes", 300}, {"neighbours", 12}, {"endpoints", "random"}, {"interpolations", 3}});
  EvalContext ctx = test::eval_context(&net, &prior, &data);
  const auto r = eval->evaluate(ctx);
  for (const char* key : {"path_length_0", "path_length_1", "path_length_2", "hops_2", "max_jump_2"})
    EXPECT_TRUE(r.metrics.count(key)) << key;
  // Every path stays on the circle, so it is never shorter than the chord between its ends
  // and never longer than half the circle (plus chord slack).
  EXPECT_LT(r.metrics.at("path_length"), 1.05 * M_PI);
}
