// Scheduler "geco": the Lagrange multiplier update of GECO (Rezende & Viola 2018) in the form
// of Klushyn et al. 2019, Eq. 5, with beta = 1 / lambda:
//   Ĉ_t      = (1 - alpha) C_ba + alpha Ĉ_{t-1},  Ĉ_0 = C_ba       (priorlab/constraint.hpp)
//   lambda_t = clamp(lambda_{t-1} * exp(nu (Ĉ_t - threshold)), lambda_min, lambda_max)
//   beta     = 1 / lambda_t
// All parameters (prior included) train from the first step. Unclamped, lambda overflows while
// the constraint is far from met (DESIGN.md §4), hence the clamp with the authors' [1e-6, 1e8].
// A step binds when Ĉ_t >= threshold: the constraint is what pushes lambda up (beta down) then.
#include <algorithm>
#include <cmath>

#include <fmt/format.h>
#include <priorlab/constraint.hpp>
#include <priorlab/sdk.hpp>

namespace {

using namespace priorlab;

class GecoScheduler : public Scheduler {
 public:
  static OptionSet options() {
    OptionSet set;
    ConstraintAverage::declare(set);
    set.add(Option::real("nu", 1.0).greater_than(0).help("lambda update rate nu"));
    LambdaClamp::declare(set, "lambda before the first update (beta = 1 / lambda)");
    return set;
  }

  explicit GecoScheduler(const BuildContext& ctx)
      : c_(ctx.options, ctx.path),
        nu_(ctx.options.real("nu")),
        clamp_(ctx.options, ctx.path),
        lambda_(clamp_.init()) {}

  double beta() const override { return 1.0 / lambda_; }
  bool train_prior() const override { return true; }
  std::string phase() const override { return "main"; }

  nlohmann::json check_baseline(const ConstraintBaseline& baseline) override {
    return c_.check_baseline(baseline, "geco",
                             fmt::format("GECO's lambda will fall to its clamp lambda_min = {:.3g}, so beta = 1/lambda "
                                         "will rise to {:.3g} and the posterior collapses",
                                         clamp_.min(), 1.0 / clamp_.min()));
  }

  void update(const SchedulerInput& in) override {
    c_.update(in);
    // exp may overflow to inf (or underflow to 0) for a huge nu * delta: the clamp absorbs both.
    lambda_ = clamp_.clamp(lambda_ * std::exp(nu_ * c_.delta()));
    c_.record(in, true, c_.delta() >= 0.0, beta());
  }

  std::map<std::string, double> metrics() const override {
    auto m = c_.metrics();
    m["lambda"] = lambda_;
    return m;
  }

  nlohmann::json state() const override { return {{"constraint", c_.state()}, {"lambda", lambda_}}; }
  void load_state(const nlohmann::json& s) override {
    c_.load_state(s.at("constraint"));
    lambda_ = s.at("lambda").get<double>();
  }

 private:
  ConstraintAverage c_;
  double nu_;
  LambdaClamp clamp_;
  double lambda_;
};

}  // namespace

PRIORLAB_PLUGIN(Scheduler, geco, GecoScheduler, "1.0.0",
                "GECO: Lagrange multiplier lambda = 1/beta from the reconstruction constraint (Eq. 5)")
