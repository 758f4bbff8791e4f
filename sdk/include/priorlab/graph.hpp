// Latent-space graphs (Sec. 2.3 of the paper): k-nearest-neighbour graphs over points and
// shortest paths through them, for graph-based interpolation and smoothness.
#pragma once

#include <cstdint>
#include <vector>

#include <torch/torch.h>

#include "priorlab/export.hpp"

namespace priorlab {

/// Undirected edges {i, j, Euclidean distance} joining each point of `points` [N, D] to its k
/// nearest neighbours (an edge is kept once even when both ends chose each other). Distances
/// are computed in row blocks, so memory stays O(block * N) for any N.
struct KnnGraph {
  std::int64_t nodes = 0;
  std::vector<std::int64_t> from, to;
  std::vector<double> weight;
};
PRIORLAB_API KnnGraph knn_graph(const torch::Tensor& points, std::int64_t k);

enum class PathSearch { AStar, Dijkstra };

/// The shortest path from node `source` to node `target` of `graph` (node indices, source
/// first), found by A* with the Euclidean distance to the target as heuristic (admissible,
/// since edge weights are Euclidean) or by Dijkstra. Empty when the target is unreachable.
/// `points` [N, D] are the nodes' coordinates (for the heuristic).
PRIORLAB_API std::vector<std::int64_t> shortest_path(const KnnGraph& graph, const torch::Tensor& points,
                                                     std::int64_t source, std::int64_t target,
                                                     PathSearch search = PathSearch::AStar);

/// Graph interpolation (Sec. 2.3): the shortest path from `from` [D] to `to` [D] through the
/// kNN graph of `nodes` [N, D] plus the two end points. Returns the path's points [L, D]
/// (double, CPU), end points included; undefined when they are not connected. When `graph` is
/// given it receives the graph searched: nodes 0..N-1 are `nodes`, N is `from`, N+1 is `to`.
PRIORLAB_API torch::Tensor interpolate_on_graph(const torch::Tensor& nodes, const torch::Tensor& from,
                                                const torch::Tensor& to, std::int64_t k, KnnGraph* graph = nullptr);

/// Smoothness of a sequence of frames [L, *S] (Fig. 8): the RMS over the L - 2 interior steps
/// of the second-order finite difference x_{t+1} - 2 x_t + x_{t-1}, per data dimension [*S]
/// (`per_dimension`) and over all of them (`overall`). Needs L >= 3.
struct Smoothness {
  torch::Tensor per_dimension;
  double overall = 0.0;
};
PRIORLAB_API Smoothness second_difference_rms(const torch::Tensor& frames);

/// Sum of the Euclidean lengths of consecutive steps of a path [L, D].
PRIORLAB_API double path_length(const torch::Tensor& path);

}  // namespace priorlab
