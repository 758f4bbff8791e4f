#include "priorlab/graph.hpp"

#include <algorithm>
#include <unordered_set>
#include <utility>
#include <vector>

#include <boost/graph/adjacency_list.hpp>
#include <boost/graph/astar_search.hpp>
#include <boost/graph/dijkstra_shortest_paths.hpp>

#include "priorlab/error.hpp"

namespace priorlab {

namespace {

using Graph = boost::adjacency_list<boost::vecS, boost::vecS, boost::undirectedS, boost::no_property,
                                    boost::property<boost::edge_weight_t, double>>;
using Vertex = boost::graph_traits<Graph>::vertex_descriptor;

struct FoundTarget {};

// Stops A* as soon as the target is taken off the queue (its distance is then final).
class StopAtTarget : public boost::default_astar_visitor {
 public:
  explicit StopAtTarget(Vertex target) : target_(target) {}
  void examine_vertex(Vertex v, const Graph&) const {
    if (v == target_) throw FoundTarget{};
  }

 private:
  Vertex target_;
};

// Euclidean distance from a node to the target: never more than the path length.
class EuclideanHeuristic : public boost::astar_heuristic<Graph, double> {
 public:
  EuclideanHeuristic(const double* points, std::int64_t dim, Vertex target) : p_(points), dim_(dim), target_(target) {}
  double operator()(Vertex v) const {
    double s = 0;
    for (std::int64_t d = 0; d < dim_; ++d) {
      const double diff = p_[v * dim_ + d] - p_[target_ * dim_ + d];
      s += diff * diff;
    }
    return std::sqrt(s);
  }

 private:
  const double* p_;
  std::int64_t dim_;
  Vertex target_;
};

}  // namespace

KnnGraph knn_graph(const torch::Tensor& points_in, std::int64_t k) {
  if (points_in.dim() != 2) throw Error("knn_graph", "points must be [N, D]");
  const auto points = points_in.detach().to(torch::kCPU, torch::kFloat).contiguous();
  const auto n = points.size(0);
  k = std::min(k, n - 1);
  KnnGraph g;
  g.nodes = n;
  if (k < 1) return g;
  // Rows per distance block: block x N floats (at most 2^21 = 8 MiB) stay below glibc's mmap
  // threshold, so the blocks are reused from the heap instead of being mapped and zero-faulted
  // each time (1,024 rows of 10,000 nodes spent a third of the time in page faults).
  const std::int64_t block = std::clamp<std::int64_t>((std::int64_t{1} << 21) / n, 1, 1024);
  // An edge {a, b} is kept once, at its first sighting in row order: a hash set of a·n + b.
  std::unordered_set<std::int64_t> seen;
  seen.reserve(static_cast<size_t>(n * k));
  std::vector<std::pair<float, std::int64_t>> best;  // the row's k nearest so far, a max-heap
  best.reserve(static_cast<size_t>(k));
  for (std::int64_t start = 0; start < n; start += block) {
    const auto rows = points.slice(0, start, std::min(n, start + block));
    const auto dist = torch::cdist(rows, points).contiguous();  // [b, N]
    const float* dp = dist.data_ptr<float>();
    // Neighbours are chosen in float (cdist's fast matrix form), but the edge weights are
    // recomputed exactly in double: the fast form loses digits for near points, enough to
    // reorder paths whose lengths differ by 1e-5. The k smallest of a row, the point itself
    // excluded, by one pass with a heap of k (ties: the lower index), instead of topk's
    // partial sort of the whole row, which took 60 % of the time.
    for (std::int64_t r = 0; r < rows.size(0); ++r) {
      const std::int64_t a = start + r;
      const float* row = dp + r * n;
      best.clear();
      std::int64_t first = 0;  // the first k indexes other than a fill the heap
      for (; static_cast<std::int64_t>(best.size()) < k; ++first)
        if (first != a) best.push_back({row[first], first});
      std::make_heap(best.begin(), best.end());
      // Later indexes are larger, so a later equal distance never displaces: compare values only.
      float worst = best.front().first;
      for (std::int64_t j = first; j < n; ++j) {
        const float v = row[j];
        if (!(v < worst) || j == a) continue;
        std::pop_heap(best.begin(), best.end());
        best.back() = {v, j};
        std::push_heap(best.begin(), best.end());
        worst = best.front().first;
      }
      std::sort_heap(best.begin(), best.end());  // nearest first
      for (const auto& [d, b] : best) {
        if (!seen.insert(std::min(a, b) * n + std::max(a, b)).second) continue;
        g.from.push_back(a);
        g.to.push_back(b);
      }
    }
  }
  if (!g.from.empty()) {
    const auto exact = points_in.detach().to(torch::kCPU, torch::kDouble);
    const auto a = exact.index_select(0, torch::tensor(g.from, torch::kLong));
    const auto b = exact.index_select(0, torch::tensor(g.to, torch::kLong));
    const auto w = (a - b).norm(2, 1).contiguous();
    g.weight.assign(w.data_ptr<double>(), w.data_ptr<double>() + w.numel());
  }
  return g;
}

std::vector<std::int64_t> shortest_path(const KnnGraph& kg, const torch::Tensor& points_in, std::int64_t source,
                                        std::int64_t target, PathSearch search) {
  if (source < 0 || target < 0 || source >= kg.nodes || target >= kg.nodes)
    throw Error("shortest_path", "source or target is not a node of the graph");
  const auto points = points_in.detach().to(torch::kCPU, torch::kDouble).contiguous();
  Graph g(static_cast<size_t>(kg.nodes));
  for (size_t e = 0; e < kg.from.size(); ++e) boost::add_edge(kg.from[e], kg.to[e], kg.weight[e], g);
  std::vector<Vertex> predecessor(kg.nodes);
  std::vector<double> distance(kg.nodes, std::numeric_limits<double>::infinity());
  if (search == PathSearch::AStar) {
    try {
      boost::astar_search(g, source, EuclideanHeuristic(points.data_ptr<double>(), points.size(1), target),
                          boost::predecessor_map(predecessor.data()).distance_map(distance.data()).visitor(StopAtTarget(target)));
    } catch (const FoundTarget&) {
    }
  } else {
    boost::dijkstra_shortest_paths(g, source, boost::predecessor_map(predecessor.data()).distance_map(distance.data()));
  }
  if (source != target && (distance[target] == std::numeric_limits<double>::infinity() || predecessor[target] == Vertex(target)))
    return {};
  std::vector<std::int64_t> path{target};
  for (Vertex v = target; v != Vertex(source); v = predecessor[v]) path.push_back(predecessor[v]);
  std::reverse(path.begin(), path.end());
  return path;
}

torch::Tensor interpolate_on_graph(const torch::Tensor& nodes, const torch::Tensor& from, const torch::Tensor& to,
                                   std::int64_t k, KnnGraph* graph) {
  const auto points = torch::cat({nodes.detach().to(torch::kCPU, torch::kDouble), from.detach().to(torch::kCPU, torch::kDouble).reshape({1, -1}),
                                  to.detach().to(torch::kCPU, torch::kDouble).reshape({1, -1})});  // [N+2, D]
  const auto n = points.size(0);
  KnnGraph searched = knn_graph(points, k);
  const auto path = shortest_path(searched, points, n - 2, n - 1);
  if (graph) *graph = std::move(searched);
  if (path.empty()) return {};
  return points.index_select(0, torch::tensor(path, torch::kLong));
}

Smoothness second_difference_rms(const torch::Tensor& frames) {
  if (frames.size(0) < 3) throw Error("smoothness", "needs at least 3 frames");
  const auto f = frames.to(torch::kDouble);
  const auto d2 = f.slice(0, 2) - 2 * f.slice(0, 1, -1) + f.slice(0, 0, -2);  // [L-2, *S]
  Smoothness s;
  s.per_dimension = d2.pow(2).mean(0).sqrt();
  s.overall = d2.pow(2).mean().sqrt().item<double>();
  return s;
}

double path_length(const torch::Tensor& path) {
  if (path.size(0) < 2) return 0.0;
  return (path.slice(0, 1) - path.slice(0, 0, -1)).to(torch::kDouble).norm(2, 1).sum().item<double>();
}

}  // namespace priorlab
