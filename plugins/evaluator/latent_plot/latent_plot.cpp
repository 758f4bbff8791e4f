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
    const EncodedSplit encoded =
        encode_split(ctx, parse_split(*ctx.dataset, o_.string("split")), o_.integer("points"), 0.5);
    auto mu = encoded.means;
    auto prior = ctx.prior->sample(o_.integer("prior_samples")).detach().cpu().to(torch::kDouble);
    ctx.progress(0.9, "plotting");

    EvalResult r;
    const auto d = mu.size(1);
    std::string title = "posterior means and prior samples";
    if (d > 2) {
      const PrincipalComponents pc = principal_components(mu, 2);
      r.metrics["pca_explained_variance"] = pc.explained;
      mu = pc.project(mu);
      prior = pc.project(prior);
      title += " (first two principal components)";
    } else if (d == 1) {
      mu = torch::cat({mu, torch::zeros_like(mu)}, 1);
      prior = torch::cat({prior, torch::zeros_like(prior)}, 1);
    }
    const auto info = ctx.dataset->info();
    ScatterSeries post{mu, encoded.labels,
                       "q(z|x) means" + (info.label_name.empty() ? "" : ", colour = " + info.label_name),
                       info.label_name == "angle", 2, {}, {}, {}};
    ScatterSeries pri{prior, torch::Tensor(), "samples z ~ p(z)", false, 1, {}, {}, {}};
    if (save_scatter_panels(artefact_path(ctx.artefact_dir, o_.string("file")), {post, pri}, title))
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
