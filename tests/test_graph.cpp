// Latent-space graphs: the kNN graph against brute force, A* against Dijkstra, and a circle on
// which the shortest path must go around (length pi), not across (length 2).
#include <cmath>
#include <set>

#include <gtest/gtest.h>

#include "priorlab/error.hpp"
#include "priorlab/graph.hpp"

using namespace priorlab;

TEST(Graph, KnnGraphMatchesBruteForce) {
  torch::manual_seed(0);
  const auto p = torch::randn({60, 3});
  const std::int64_t k = 4;
  const KnnGraph g = knn_graph(p, k);
  std::set<std::pair<std::int64_t, std::int64_t>> edges;
  for (size_t e = 0; e < g.from.size(); ++e) {
    const auto a = g.from[e], b = g.to[e];
    EXPECT_TRUE(edges.insert({std::min(a, b), std::max(a, b)}).second) << "duplicate edge";
    EXPECT_NEAR(g.weight[e], (p[a] - p[b]).norm().item<double>(), 1e-5);
  }
  // Brute force: every point's k nearest others are joined to it.
  for (std::int64_t i = 0; i < 60; ++i) {
    auto d = (p - p[i]).norm(2, 1);
    d[i] = INFINITY;
    const auto nearest = std::get<1>(d.topk(k, 0, false));
    for (std::int64_t j = 0; j < k; ++j) {
      const auto b = nearest[j].item<std::int64_t>();
      EXPECT_TRUE(edges.count({std::min(i, b), std::max(i, b)})) << i << "-" << b;
    }
  }
}

TEST(Graph, AStarAgreesWithDijkstra) {
  torch::manual_seed(1);
  const auto p = torch::randn({500, 5}, torch::kDouble);
  const KnnGraph g = knn_graph(p, 8);
  for (int trial = 0; trial < 20; ++trial) {
    const std::int64_t s = (trial * 37) % 500, t = (trial * 101 + 7) % 500;
    const auto a = shortest_path(g, p, s, t, PathSearch::AStar);
    const auto d = shortest_path(g, p, s, t, PathSearch::Dijkstra);
    ASSERT_FALSE(a.empty());
    EXPECT_EQ(a.front(), s);
    EXPECT_EQ(a.back(), t);
    auto length = [&](const std::vector<std::int64_t>& path) {
      return path_length(p.index_select(0, torch::tensor(path, torch::kLong)));
    };
    EXPECT_NEAR(length(a), length(d), 1e-9) << "trial " << trial;
  }
}

TEST(Graph, OnACircleThePathGoesAroundNotAcross) {
  // 200 points evenly on the unit circle, 4 neighbours each (one and two steps away). From
  // angle 0 to angle pi the shortest way is 50 two-step chords of 2 sin(pi/100): 3.14108 (a
  // straight line across would be 2, two one-step chords cost 2 * 2 sin(pi/200), 9e-6 more).
  const auto a = torch::arange(200, torch::kDouble) * (2 * M_PI / 200);
  const auto p = torch::stack({torch::cos(a), torch::sin(a)}, 1);
  const KnnGraph g = knn_graph(p, 4);
  EXPECT_EQ(g.from.size(), 400u);  // 200 x 4 neighbours, each edge chosen from both ends
  const auto path = shortest_path(g, p, 0, 100);
  const auto points = p.index_select(0, torch::tensor(path, torch::kLong));
  EXPECT_NEAR(path_length(points), 50 * 2 * std::sin(M_PI / 100), 1e-12);
  EXPECT_NEAR(points.norm(2, 1).min().item<double>(), 1.0, 1e-12);  // never leaves the circle
  EXPECT_EQ(path.size(), 51u);
}

TEST(Graph, UnreachableTargetGivesAnEmptyPath) {
  // Two clusters far apart, 2 neighbours each: no edge between them.
  const auto p = torch::cat({torch::rand({10, 2}, torch::kDouble), torch::rand({10, 2}, torch::kDouble) + 100.0});
  const KnnGraph g = knn_graph(p, 2);
  EXPECT_TRUE(shortest_path(g, p, 0, 15).empty());
  EXPECT_EQ(shortest_path(g, p, 3, 3), std::vector<std::int64_t>{3});
  EXPECT_THROW(shortest_path(g, p, 0, 20), Error);
}

TEST(Graph, SmoothnessIsZeroOnAStraightEvenlySpacedPath) {
  const auto t = torch::arange(7, torch::kDouble).unsqueeze(1);
  const auto frames = torch::cat({2.0 * t, -t + 3.0, 0.5 * t}, 1);  // [7, 3], linear in t
  const Smoothness s = second_difference_rms(frames);
  EXPECT_NEAR(s.overall, 0.0, 1e-12);
  EXPECT_NEAR(s.per_dimension.abs().max().item<double>(), 0.0, 1e-12);
}

TEST(Graph, SmoothnessMatchesAHandComputationOnAPolyline) {
  // Frames (1-D): 0, 1, 3, 3. Second differences: 3 - 2 + 0 = 1 and 3 - 6 + 1 = -2.
  // RMS = sqrt((1 + 4) / 2) = sqrt(2.5). A second, constant dimension adds zeros:
  // overall = sqrt((1 + 4 + 0 + 0) / 4) = sqrt(1.25).
  const auto frames = torch::tensor({{0.0, 5.0}, {1.0, 5.0}, {3.0, 5.0}, {3.0, 5.0}}, torch::kDouble);
  const Smoothness s = second_difference_rms(frames);
  EXPECT_NEAR(s.per_dimension[0].item<double>(), std::sqrt(2.5), 1e-12);
  EXPECT_NEAR(s.per_dimension[1].item<double>(), 0.0, 1e-12);
  EXPECT_NEAR(s.overall, std::sqrt(1.25), 1e-12);
  EXPECT_THROW(second_difference_rms(frames.slice(0, 0, 2)), Error);
}

TEST(Graph, InterpolationOnGraphReturnsTheEndPointsAndTheNodesBetween) {
  const auto a = torch::arange(100, torch::kDouble) * (2 * M_PI / 100);
  const auto nodes = torch::stack({torch::cos(a), torch::sin(a)}, 1);
  const auto path = interpolate_on_graph(nodes, torch::tensor({1.0, 0.0}), torch::tensor({-1.0, 0.0}), 4);
  ASSERT_TRUE(path.defined());
  EXPECT_TRUE(torch::allclose(path[0], torch::tensor({1.0, 0.0}, torch::kDouble)));
  EXPECT_TRUE(torch::allclose(path[-1], torch::tensor({-1.0, 0.0}, torch::kDouble)));
  EXPECT_NEAR(path.norm(2, 1).min().item<double>(), 1.0, 1e-12);  // around, not across

  // The graph searched, when asked for: the 100 nodes then the two end points, which here
  // coincide with nodes 0 and 50 (distance 0 to them, so each is among the other's neighbours).
  KnnGraph graph;
  interpolate_on_graph(nodes, torch::tensor({1.0, 0.0}), torch::tensor({-1.0, 0.0}), 4, &graph);
  EXPECT_EQ(graph.nodes, 102);
  bool start_joined = false;
  for (size_t e = 0; e < graph.from.size(); ++e)
    if ((graph.from[e] == 100 && graph.to[e] == 0) || (graph.from[e] == 0 && graph.to[e] == 100)) start_joined = true;
  EXPECT_TRUE(start_joined);
}
