// Evaluator "smoothness" (Fig. 8 of the paper): how smoothly graph interpolations move in data
// space. For G graphs (each of `nodes` fresh prior samples) x P interpolations between random
// end examples, the decoded path's frames x_1..x_L give
//   RMS_j = sqrt( mean_t (x_{t+1,j} - 2 x_{t,j} + x_{t-1,j})^2 )   per data dimension j
//   RMS   = sqrt( mean_{t,j} (...)^2 )                              over all dimensions
// reported as mean and standard deviation over the G x P paths (paths under 3 frames skipped),
// with a picture of the mean per-dimension RMS for image data.
#include <cmath>

#include <priorlab/sdk.hpp>

namespace {

using namespace priorlab;

class SmoothnessEvaluator : public Evaluator {
 public:
  static OptionSet options() {
    return OptionSet{}
        .add(Option::integer("graphs", 3).min(1).help("G, graphs built from fresh prior samples"))
        .add(Option::integer("interpolations", 10).min(1).help("P, random end-point pairs per graph"))
        .add(Option::integer("nodes", 1000).min(2).help("prior samples per graph"))
        .add(Option::integer("neighbours", 18).min(1).help("k nearest neighbours per node"))
        .add(Option::string("split", "auto").choices({"auto", "train", "validation", "test"}).help("where end points come from"))
        .add(Option::string("file", "smoothness.png").help("picture of the per-dimension RMS under artefacts/ (image data)"));
  }
  explicit SmoothnessEvaluator(const BuildContext& ctx) : o_(ctx.options) {}

  EvalResult evaluate(const EvalContext& ctx) override {
    torch::NoGradGuard no_grad;
    const Split split = parse_split(*ctx.dataset, o_.string("split"));
    auto gen = at::detail::createCPUGenerator(ctx.seed);
    const auto graphs = o_.integer("graphs"), per_graph = o_.integer("interpolations");
    std::vector<double> overall;
    torch::Tensor per_dim_sum;
    std::int64_t skipped = 0;
    for (std::int64_t g = 0; g < graphs; ++g) {
      const auto nodes = ctx.prior->sample(o_.integer("nodes"));
      const auto idx = torch::randint(ctx.dataset->size(split), {per_graph, 2}, gen, torch::kLong);
      const auto ends = ctx.model_input(ctx.dataset->get(split, idx.flatten(), kEvaluationDrawSeed).x);
      const auto means = ctx.network->encode(ends).mu;  // [2P, D]: pairs are rows (2p, 2p + 1)
      for (std::int64_t p = 0; p < per_graph; ++p) {
        const auto latent = interpolate_on_graph(nodes, means[2 * p], means[2 * p + 1], o_.integer("neighbours"));
        if (!latent.defined() || latent.size(0) < 3) {
          ++skipped;
          continue;
        }
        const auto frames = ctx.network->mean(ctx.network->decode(latent.to(ctx.device, ctx.dtype))).cpu();
        const Smoothness s = second_difference_rms(frames);
        overall.push_back(s.overall);
        per_dim_sum = per_dim_sum.defined() ? per_dim_sum + s.per_dimension : s.per_dimension;
        ctx.progress(static_cast<double>(g * per_graph + p + 1) / (graphs * per_graph), "interpolating");
      }
    }
    EvalResult r;
    r.metrics["paths"] = static_cast<double>(overall.size());
    r.metrics["skipped"] = static_cast<double>(skipped);
    if (overall.empty()) return r;
    const auto values = torch::tensor(overall, torch::kDouble);
    r.metrics["rms_mean"] = values.mean().item<double>();
    r.metrics["rms_std"] = overall.size() > 1 ? values.std().item<double>() : 0.0;
    const auto per_dim = per_dim_sum / static_cast<double>(overall.size());
    r.metrics["rms_per_dimension_max"] = per_dim.max().item<double>();
    if (per_dim.dim() == 3) {  // [C, H, W]: show where along the image the paths jump
      const auto picture = (per_dim / per_dim.max().clamp_min(1e-12)).unsqueeze(0);
      if (save_image_grid(artefact_path(ctx.artefact_dir, o_.string("file")), picture, 1, 12))
        r.artefacts.push_back(o_.string("file"));
    }
    return r;
  }

 private:
  Options o_;
};

}  // namespace

PRIORLAB_PLUGIN(Evaluator, smoothness, SmoothnessEvaluator, "1.0.0",
                "Fig. 8: RMS second difference along decoded graph interpolations, mean and std over G x P paths")
