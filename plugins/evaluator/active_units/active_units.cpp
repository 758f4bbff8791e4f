// Evaluator "active_units" (Burda et al. 2016; Fig. 21 of the paper): which latent dimensions
// the model uses. Over the evaluation split,
//   A_d = Cov_x( E_q[z_d | x] ) = variance over x of the posterior mean mu_d(x)
// and dimension d is active when A_d > threshold (0.01 by convention). Also reported per
// dimension: the mean KL of q(z_d|x) to N(0, 1), 1/2 (exp(lv) + mu^2 - 1 - lv), which is the
// rate a dimension costs under a standard-normal prior (for learned priors, a reference scale).
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
    const auto activity = q.means.var(0, /*unbiased=*/false);                          // [D]
    const auto kl = kl_to_standard_normal_per_dimension({q.means, q.logvars}).mean(0);  // [D]
    const double threshold = o_.real("threshold");
    EvalResult r;
    r.metrics["active_units"] = (activity > threshold).sum().item<double>();
    r.metrics["dimensions"] = static_cast<double>(activity.size(0));
    r.metrics["kl_to_standard_normal"] = kl.sum().item<double>();
    for (std::int64_t d = 0; d < activity.size(0); ++d) {
      r.metrics[fmt::format("activity_{}", d)] = activity[d].item<double>();
      r.metrics[fmt::format("kl_{}", d)] = kl[d].item<double>();
    }
    // Sorted bars, largest first, labelled by dimension (Fig. 21).
    const auto order = std::get<1>(activity.sort(0, /*descending=*/true));
    std::vector<double> bars;
    std::vector<std::string> labels;
    for (std::int64_t i = 0; i < order.size(0); ++i) {
      bars.push_back(activity[order[i]].item<double>());
      labels.push_back("z" + std::to_string(order[i].item<std::int64_t>()));
    }
    save_bar_chart(artefact_path(ctx.artefact_dir, o_.string("file")), bars, labels, threshold, true,
                   "Cov_x(E_q[z_d]) per latent dimension, sorted; dashed: active threshold");
    r.artefacts.push_back(o_.string("file"));
    return r;
  }

 private:
  Options o_;
};

}  // namespace

PRIORLAB_PLUGIN(Evaluator, active_units, ActiveUnits, "1.0.0",
                "active latent units: Cov_x(E_q[z_d]) > 0.01, per-dimension KL, sorted bar chart (Fig. 21)")
