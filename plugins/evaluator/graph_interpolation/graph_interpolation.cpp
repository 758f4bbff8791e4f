// Evaluator "graph_interpolation" (Sec. 2.3 of the paper): interpolate along the learned
// prior's support instead of through empty latent space.
//   1. N nodes z_n ~ p(z); the two end points x_a, x_b enter as their posterior means.
//   2. Each node is joined to its k nearest neighbours, edge weight = Euclidean distance.
//   3. The shortest path from a to b by A* (Euclidean heuristic), via priorlab/graph.hpp.
//   4. The path's latent points are decoded to data space (decoder means).
// Reports per interpolation the latent path length, the hop count and the largest jump between
// consecutive decoded frames (Euclidean distance / sqrt(data dimension): an RMS per value).
#include <cmath>

#include <fmt/format.h>
#include <priorlab/sdk.hpp>

namespace {

using namespace priorlab;

class GraphInterpolation : public Evaluator {
 public:
  static OptionSet options() {
    return OptionSet{}
        .add(Option::integer("nodes", 1000).min(2).help("N, graph nodes sampled from the prior (paper: pendulum 1,000)"))
        .add(Option::integer("neighbours", 18).min(1).help("k nearest neighbours per node (paper: pendulum 18)"))
        .add(Option::string("endpoints", "label").choices({"label", "random"})
                 .help("label: the examples whose labels are nearest from_label / to_label; random: random pairs"))
        .add(Option::real("from_label", 0.0).help("label of the start example (pendulum: angle in radians)"))
        .add(Option::real("to_label", M_PI).help("label of the end example"))
        .add(Option::integer("interpolations", 1).min(1).max(64).help("random pairs (endpoints = random)"))
        .add(Option::string("split", "auto").choices({"auto", "train", "validation", "test"}).help("where end points come from"))
        .add(Option::string("file_prefix", "interpolation").help("pictures are <prefix>_<i>.png under artefacts/"));
  }
  explicit GraphInterpolation(const BuildContext& ctx) : o_(ctx.options) {}

  EvalResult evaluate(const EvalContext& ctx) override {
    torch::NoGradGuard no_grad;
    const Split split = parse_split(*ctx.dataset, o_.string("split"));
    const auto n_examples = ctx.dataset->size(split);
    std::vector<std::pair<std::int64_t, std::int64_t>> pairs;
    const bool plane = ctx.network->latent_dim() == 2;  // draw the graph over the latent plot (Fig. 3/6)
    EncodedSplit encoded;
    if (o_.string("endpoints") == "label" || plane) encoded = encode_split(ctx, split, 0, 0.3);
    if (o_.string("endpoints") == "label") {
      const auto& labels = encoded.labels;
      if (!labels.defined()) throw Error("endpoints", "\"label\" needs a labelled dataset; use \"random\"");
      auto nearest = [&](double value) { return (labels - value).abs().argmin().item<std::int64_t>(); };
      pairs.push_back({nearest(o_.real("from_label")), nearest(o_.real("to_label"))});
    } else {
      auto gen = at::detail::createCPUGenerator(ctx.seed);
      const auto idx = torch::randint(n_examples, {o_.integer("interpolations"), 2}, gen, torch::kLong);
      for (std::int64_t i = 0; i < idx.size(0); ++i) pairs.push_back({idx[i][0].item<std::int64_t>(), idx[i][1].item<std::int64_t>()});
    }
    const double dim = static_cast<double>(ctx.dataset->info().dimension());
    const bool images = ctx.dataset->info().shape.size() == 3;

    EvalResult r;
    double sum_length = 0, sum_hops = 0, sum_jump = 0;
    for (size_t i = 0; i < pairs.size(); ++i) {
      const auto pair = torch::tensor({pairs[i].first, pairs[i].second}, torch::kLong);
      const auto ends = ctx.model_input(ctx.dataset->get(split, pair, kEvaluationDrawSeed).x);
      const auto end_means = ctx.network->encode(ends).mu;                                   // [2, D]
      const auto nodes = ctx.prior->sample(o_.integer("nodes"));                             // [N, D]
      KnnGraph graph;
      const auto latent = interpolate_on_graph(nodes, end_means[0], end_means[1], o_.integer("neighbours"), &graph);  // [L, D]
      if (!latent.defined())
        throw Error("graph_interpolation", "the end points are not connected in the graph; raise nodes or neighbours");
      const auto hops = latent.size(0) - 1;
      const auto frames = ctx.network->mean(ctx.network->decode(latent.to(ctx.device, ctx.dtype))).cpu();  // [L, *S]
      const auto steps = (frames.slice(0, 1) - frames.slice(0, 0, -1)).flatten(1).to(torch::kDouble);
      const double jump = steps.size(0) > 0 ? (steps.norm(2, 1).max().item<double>() / std::sqrt(dim)) : 0.0;
      const double length = path_length(latent);
      const auto tag = std::to_string(i);
      r.metrics["path_length_" + tag] = length;
      r.metrics["hops_" + tag] = static_cast<double>(hops);
      r.metrics["max_jump_" + tag] = jump;
      sum_length += length, sum_hops += static_cast<double>(hops), sum_jump += jump;
      if (images) {
        const std::string file = o_.string("file_prefix") + "_" + tag + ".png";
        if (save_image_grid(artefact_path(ctx.artefact_dir, file), frames, frames.size(0), 4))
          r.artefacts.push_back(file);
      }
      if (plane) {
        // The test split's posterior means coloured by label, the graph's edges under them, and
        // the path over them (start ringed green, end red).
        const auto points = torch::cat({nodes.detach().to(torch::kCPU, torch::kDouble),
                                        end_means.detach().to(torch::kCPU, torch::kDouble)});  // [N+2, 2], graph order
        const auto from = torch::tensor(graph.from, torch::kLong), to = torch::tensor(graph.to, torch::kLong);
        const auto info = ctx.dataset->info();
        ScatterSeries panel{encoded.means, encoded.labels,
                            "kNN graph of " + std::to_string(nodes.size(0)) + " prior samples" +
                                (info.label_name.empty() ? "" : "; colour = " + info.label_name),
                            info.label_name == "angle", 2, {},
                            torch::stack({points.index_select(0, from), points.index_select(0, to)}, 1),  // [E, 2, 2]
                            latent};
        const std::string file = o_.string("file_prefix") + "_graph_" + tag + ".png";
        const std::string title = "graph interpolation " + tag + ": " + std::to_string(hops) +
                                  " hops, latent length " + fmt::format("{:.3g}", length);
        if (save_scatter_panels(artefact_path(ctx.artefact_dir, file), {panel}, title)) r.artefacts.push_back(file);
      }
      ctx.progress(0.3 + 0.7 * (i + 1) / pairs.size(), "interpolating");
    }
    const double count = static_cast<double>(pairs.size());
    r.metrics["path_length"] = sum_length / count;
    r.metrics["hops"] = sum_hops / count;
    r.metrics["max_jump"] = sum_jump / count;
    return r;
  }

 private:
  Options o_;
};

}  // namespace

PRIORLAB_PLUGIN(Evaluator, graph_interpolation, GraphInterpolation, "1.0.0",
                "graph-based latent interpolation (Sec. 2.3): kNN graph on prior samples, A* path, decoded strip")
