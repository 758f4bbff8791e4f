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
        .add(Option::real("threshold", 0.01).greater_than(0).help("a dimension is active when Cov_x(E_q[z_d]) exceeds this"))
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
    report(r, q.means, q.logvars, "", "z", o_.string("file"), ctx);
    const DiagGaussian upper = ctx.prior->upper_posterior(ctx.model_input(q.means));
    if (upper.mu.defined()) {
      const std::string file = o_.string("file").substr(0, o_.string("file").size() - 4) + "_zeta.png";
      report(r, upper.mu.to(torch::kCPU, torch::kDouble), upper.logvar.to(torch::kCPU, torch::kDouble), "zeta_", "zeta",
             file, ctx);
    }
    return r;
  }

 private:
  /// Metrics "<prefix>active_units", "<prefix>activity_d", "<prefix>kl_d", ... and the sorted bar
  /// chart for posterior means/log-variances [N, D] of the variable called `symbol`.
  void report(EvalResult& r, const torch::Tensor& means, const torch::Tensor& logvars, const std::string& prefix,
              const std::string& symbol, const std::string& file, const EvalContext& ctx) const {
    const auto activity = means.var(0, /*unbiased=*/false);                        // [D]
    const auto kl = kl_to_standard_normal_per_dimension({means, logvars}).mean(0);  // [D]
    const double threshold = o_.real("threshold");
    r.metrics[prefix + "active_units"] = (activity > threshold).sum().item<double>();
    r.metrics[prefix + "dimensions"] = static_cast<double>(activity.size(0));
    r.metrics[prefix + "kl_to_standard_normal"] = kl.sum().item<double>();
    for (std::int64_t d = 0; d < activity.size(0); ++d) {
      r.metrics[fmt::format("{}activity_{}", prefix, d)] = activity[d].item<double>();
      r.metrics[fmt::format("{}kl_{}", prefix, d)] = kl[d].item<double>();
    }
    // Sorted bars, largest first, labelled by dimension (Fig. 21).
    const auto order = std::get<1>(activity.sort(0, /*descending=*/true));
    std::vector<double> bars;
    std::vector<std::string> labels;
    for (std::int64_t i = 0; i < order.size(0); ++i) {
      bars.push_back(activity[order[i]].item<double>());
      labels.push_back(symbol + std::to_string(order[i].item<std::int64_t>()));
    }
    if (save_bar_chart(artefact_path(ctx.artefact_dir, file), bars, labels, threshold, true,
                       fmt::format("Cov_x(E_q[{0}_d]) per dimension of {0}, sorted; dashed: active threshold", symbol)))
      r.artefacts.push_back(file);
  }

  Options o_;
};

}  // namespace

PRIORLAB_PLUGIN(Evaluator, active_units, ActiveUnits, "1.0.0",
                "active latent units: Cov_x(E_q[z_d]) > 0.01, per-dimension KL, sorted bar chart (Fig. 21)")
