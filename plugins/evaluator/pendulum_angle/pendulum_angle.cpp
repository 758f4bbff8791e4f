// Evaluator "pendulum_angle" (Table 1 of the paper): how well the latent space encodes the
// pendulum's angle. Posterior means of the evaluation split -> polar angle phi about the latent
// centre (the mean of the posterior means) -> OLS regression of the true angle theta on phi,
// with the 2 pi wrap and the orientation handled:
//   for s in {+1, -1}:  b0 = circular mean of (theta - s phi)
//                       t  = s phi + b0 + wrap(theta - s phi - b0)   (theta unwrapped onto the line)
//                       OLS  t ~ a (s phi) + c
//   error = mean |wrap(theta - a s phi - c)| for the better orientation s, in radians.
// Latents with more than two dimensions are first projected onto their top two principal components.
#include <cmath>

#include <priorlab/sdk.hpp>

namespace {

using namespace priorlab;

torch::Tensor wrap(const torch::Tensor& a) { return torch::remainder(a + M_PI, 2 * M_PI) - M_PI; }

class PendulumAngleEvaluator : public Evaluator {
 public:
  static OptionSet options() {
    return OptionSet{}
        .add(Option::string("split", "auto").choices({"auto", "train", "validation", "test"}).help("which split to encode"))
        .add(Option::integer("limit", 0).min(0).help("examples used (0: the whole split)"));
  }
  explicit PendulumAngleEvaluator(const BuildContext& ctx) : o_(ctx.options) {
    if (ctx.data.label_name != "angle")
      throw Error(ctx.path, "needs a dataset labelled by angle (pendulum), found label '" + ctx.data.label_name + "'");
  }

  /// The regression itself, on latent points [N, 2] and angles [N] (double tensors).
  static std::map<std::string, double> regress(torch::Tensor z, const torch::Tensor& theta) {
    const auto centred = z - z.mean(0, true);
    const auto phi = torch::atan2(centred.select(1, 1), centred.select(1, 0));
    std::map<std::string, double> best;
    for (const double s : {1.0, -1.0}) {
      const auto x = s * phi;
      const auto d = theta - x;
      const double b0 = std::atan2(torch::sin(d).mean().item<double>(), torch::cos(d).mean().item<double>());
      const auto t = x + b0 + wrap(d - b0);
      // OLS with intercept: a = cov(x, t) / var(x), c = mean(t) - a mean(x).
      const auto xm = x.mean(), tm = t.mean();
      const double a = ((x - xm) * (t - tm)).sum().item<double>() / (x - xm).pow(2).sum().item<double>();
      const double c = (tm - a * xm).item<double>();
      const double err = wrap(theta - (a * x + c)).abs().mean().item<double>();
      if (best.empty() || err < best["mae_rad"]) best = {{"mae_rad", err}, {"slope", a}, {"orientation", s}};
    }
    return best;
  }

  EvalResult evaluate(const EvalContext& ctx) override {
    const EncodedSplit encoded = encode_split(ctx, parse_split(*ctx.dataset, o_.string("split")), o_.integer("limit"));
    auto z = encoded.means;
    if (z.size(1) < 2) throw Error("pendulum_angle", "needs a latent space of at least two dimensions");
    if (z.size(1) > 2) z = principal_components(z, 2).project(z);
    EvalResult r;
    r.metrics = regress(z, encoded.labels);
    r.metrics["examples"] = static_cast<double>(z.size(0));
    return r;
  }

 private:
  Options o_;
};

}  // namespace

PRIORLAB_PLUGIN(Evaluator, pendulum_angle, PendulumAngleEvaluator, "1.0.0",
                "Table 1: OLS from the latent polar angle to the pendulum angle, mean absolute error in radians")
