// Evaluator "active_units" (Burda et al. 2016; Fig. 21 of the paper): which latent dimensions
// the model uses. Over the evaluation split,
//   A_d = Cov_x( E_q[z_d | x] ) = variance over x of the posterior mean mu_d(x)
// and dimension d is active when A_d > threshold (0.01 by convention). Also reported per
// dimension: the mean KL of q(z_d|x) to N(0, 1), 1/2 (exp(lv) + mu^2 - 1 - lv), which is the
// rate a dimension costs under a standard-normal prior (for learned priors, a reference scale).
//
// For a hierarchical prior (VHP, whose upper layer has p(ζ) = N(0, I)) the same is reported for
// ζ, with q(ζ|z) evaluated at each example's posterior mean z = E_q[z|x]:
//   A_j = Cov_x( E_q[ζ_j | z = mu(x)] ),   KL_j = KL(q(ζ_j | mu(x)) || N(0, 1)) averaged over x.
// (Using the posterior mean instead of averaging over z ~ q(z|x) keeps it deterministic; the
// criterion is about how the mean moves with x, which the mean of z carries.)
#include <fmt/format.h>
#include <priorlab/sdk.hpp>

namespace {

using namespace priorlab;

class ActiveUnits : public Evaluator {
 public:
  static OptionSet options() {
    return OptionSet{}
        .add(Option::real("threshold", kActiveUnitThreshold).greater_than(0).help("a dimension is active when Cov_x(E_q[z_d]) exceeds this"))
        .add(Option::string("split", "auto").choices({"auto", "train", "validation", "test"}).help("which split to encode"))
        .add(Option::integer("limit", 0).min(0).help("examples used (0: the whole split)"))
        .add(Option::string("file", "active_units.png").help("sorted bar chart of Cov_x(E_q[z_d]) under artefacts/"));
  }
  explicit ActiveUnits(const BuildContext& ctx) : o_(ctx.options) {}

  EvalResult evaluate(const EvalContext& ctx) override {
    torch::NoGradGuard no_grad;
    const EncodedSplit q =
        encode_split(ctx, parse_split(*ctx.dataset, o_.string("split")), o_.integer("limit"), 0.9);
    EvalResult r;
    // z: its KL per dimension to N(0, 1), the rate a dimension costs under a standard-normal
    // prior (for learned priors a reference scale); the layers above z against their own priors.
    report(r, layer_activity("z", q.means, kl_to_standard_normal_per_dimension({q.means, q.logvars}), threshold()), "",
           o_.string("file"), ctx);
    const std::string stem = o_.string("file").substr(0, o_.string("file").size() - 4);
    for (const LayerActivity& layer : upper_layer_activity(*ctx.prior, ctx.model_input(q.means), threshold()))
      report(r, layer, layer.name + "_", stem + "_" + layer.name + ".png", ctx);
    return r;
  }

 private:
  double threshold() const { return o_.real("threshold"); }

  /// Metrics "<prefix>active_units", "<prefix>activity_d", "<prefix>kl_d", ... and the sorted bar
  /// chart of one layer's activity.
  void report(EvalResult& r, const LayerActivity& layer, const std::string& prefix, const std::string& file,
              const EvalContext& ctx) const {
    const auto& activity = layer.activity;  // [D]
    r.metrics[prefix + "active_units"] = static_cast<double>(layer.active_units());
    r.metrics[prefix + "dimensions"] = static_cast<double>(layer.dimensions());
    // Named for z's reference scale; an upper layer's KL is to its own prior (N(0, I) for VHP).
    if (layer.kl.defined()) r.metrics[prefix + "kl_to_standard_normal"] = layer.kl_total();
    const bool per_dimension = layer.kl.defined() && layer.kl.size(0) == activity.size(0);
    for (std::int64_t d = 0; d < activity.size(0); ++d) {
      r.metrics[fmt::format("{}activity_{}", prefix, d)] = activity[d].item<double>();
      if (per_dimension) r.metrics[fmt::format("{}kl_{}", prefix, d)] = layer.kl[d].item<double>();
    }
    // Sorted bars, largest first, labelled by dimension (Fig. 21).
    const auto order = std::get<1>(activity.sort(0, /*descending=*/true));
    std::vector<double> bars;
    std::vector<std::string> labels;
    for (std::int64_t i = 0; i < order.size(0); ++i) {
      bars.push_back(activity[order[i]].item<double>());
      labels.push_back(layer.name + std::to_string(order[i].item<std::int64_t>()));
    }
    if (save_bar_chart(artefact_path(ctx.artefact_dir, file), bars, labels, layer.threshold, true,
                       fmt::format("Cov_x(E_q[{0}_d]) per dimension of {0}, sorted; dashed: active threshold",
                                   layer.name)))
      r.artefacts.push_back(file);
  }

  Options o_;
};

}  // namespace

PRIORLAB_PLUGIN(Evaluator, active_units, ActiveUnits, "1.0.0",
                "active latent units: Cov_x(E_q[z_d]) > 0.01, per-dimension KL, sorted bar chart (Fig. 21)")
