// Evaluator "latent_plot": posterior means of the evaluation split coloured by label, beside
// samples from the prior (Fig. 2/18 of the paper). Latents with more than two dimensions are
// projected onto the first two principal components of the posterior means.
#include <cmath>

#include <priorlab/sdk.hpp>

namespace {

using namespace priorlab;

class LatentPlotEvaluator : public Evaluator {
 public:
  static OptionSet options() {
    return OptionSet{}
        .add(Option::string("split", "auto").choices({"auto", "train", "validation", "test"}).help("which split to encode"))
        .add(Option::integer("points", 2000).min(1).help("posterior means plotted"))
        .add(Option::integer("prior_samples", 2000).min(1).help("prior samples plotted"))
        .add(Option::string("file", "latent.png").help("picture name under artefacts/"));
  }
  explicit LatentPlotEvaluator(const BuildContext& ctx) : o_(ctx.options) {}

  EvalResult evaluate(const EvalContext& ctx) override {
    torch::NoGradGuard no_grad;
    const Split split = parse_split(*ctx.dataset, o_.string("split"));
    std::vector<torch::Tensor> means, labels;
    for_each_batch(*ctx.dataset, split, o_.integer("points"), 500, [&](const Batch& b, std::int64_t done, std::int64_t total) {
      means.push_back(ctx.network->encode(b.x.to(ctx.device)).mu.cpu());
      if (b.label.defined()) labels.push_back(b.label.to(torch::kDouble));
      ctx.progress(0.5 * done / total, "encoding");
    });
    auto mu = torch::cat(means).to(torch::kDouble);
    auto prior = ctx.prior->sample(o_.integer("prior_samples")).detach().cpu().to(torch::kDouble);
    ctx.progress(0.9, "plotting");

    EvalResult r;
    const auto d = mu.size(1);
    std::string title = "posterior means and prior samples";
    if (d > 2) {
      // PCA of the posterior means: top-2 right singular vectors of the centred matrix.
      const auto centre = mu.mean(0, true);
      const auto svd = torch::linalg_svd(mu - centre, false);
      const auto v = std::get<2>(svd).slice(0, 0, 2).t();  // [D, 2]
      const auto s = std::get<1>(svd).pow(2);
      r.metrics["pca_explained_variance"] = (s.slice(0, 0, 2).sum() / s.sum()).item<double>();
      mu = (mu - centre).matmul(v);
      prior = (prior - centre).matmul(v);
      title += " (first two principal components)";
    } else if (d == 1) {
      mu = torch::cat({mu, torch::zeros_like(mu)}, 1);
      prior = torch::cat({prior, torch::zeros_like(prior)}, 1);
    }
    const auto info = ctx.dataset->info();
    ScatterSeries post{mu, labels.empty() ? torch::Tensor() : torch::cat(labels),
                       "q(z|x) means" + (info.label_name.empty() ? "" : ", colour = " + info.label_name),
                       info.label_name == "angle", 2};
    ScatterSeries pri{prior, torch::Tensor(), "samples z ~ p(z)", false, 1};
    save_scatter_panels(artefact_path(ctx.artefact_dir, o_.string("file")), {post, pri}, title);
    r.artefacts.push_back(o_.string("file"));
    r.metrics["posterior_mean_spread"] = mu.std(0).mean().item<double>();
    return r;
  }

 private:
  Options o_;
};

}  // namespace

PRIORLAB_PLUGIN(Evaluator, latent_plot, LatentPlotEvaluator, "1.0.0",
                "PNG of posterior means coloured by label beside prior samples (PCA above 2-D)")
