// Scheduler "dvbf_constrained": the authors' own constrained update, as coded in
// argmax-ai/deep-variational-bayes-filters, robolab/models/sequence_models/dvbf/beta_update.py,
// class ConstrainedOptimization (Klushyn et al. 2019, 2021), with beta = 1 / lambda:
//
//   Ĉ_t = (1 - alpha) C_ba + alpha Ĉ_{t-1},  Ĉ_0 = C_ba             (priorlab/constraint.hpp)
//   initial phase: the loss is the reconstruction term alone (beta = 0, the prior frozen),
//                  until Ĉ_t < threshold first holds; the switch is permanent.
//   main phase:    beta = 1 / lambda, lambda starting at lambda_init; on every step t with
//                  t % update_every == 0 (the global step, counted from 0):
//                    f        = 1                                if Ĉ_t >= threshold
//                    f        = -tanh(tau (1 / lambda - 1))      if Ĉ_t <  threshold
//                    momentum = clip(exp(nu f (Ĉ_t - threshold)), factor_min, factor_max)
//                    lambda  <- clip(lambda * momentum, lambda_min, lambda_max)
//
// Defaults from the reference: alpha 0.99, tau 100, every 100 steps, clip [0.9, 1.05], lambda in
// [1e-6, 1e8] (all hard-coded there), nu 1 and lambda 1 (its argument defaults). The step on which
// the switch happens also updates lambda when it is an update step, as in the reference, whose
// compute_loss() switches and whose update_dual_variables() then runs in the same training step.
// README.md lists, line by line, how this differs from REWO (plugins/scheduler/rewo/).
#include <algorithm>
#include <cmath>

#include <fmt/format.h>
#include <priorlab/constraint.hpp>
#include <priorlab/sdk.hpp>

namespace {

using namespace priorlab;

class DvbfConstrainedScheduler : public Scheduler {
 public:
  static OptionSet options() {
    OptionSet set;
    ConstraintAverage::declare(set);
    set.add(Option::real("nu", 1.0).greater_than(0).help("lambda update rate nu (reference nu_dual default 1)"));
    set.add(Option::real("tau", 100.0)
                .greater_than(0)
                .help("slope tau of -tanh(tau (1/lambda - 1)) while the constraint holds (reference 100)"));
    LambdaClamp::declare(set, "lambda when the initial phase ends (reference lambda_dual default 1: beta = 1)");
    set.add(Option::integer("update_every", 100)
                .min(1)
                .help("update lambda on the steps t (from 0) with t % update_every == 0 (reference 100)"));
    set.add(Option::real("factor_min", 0.9)
                .greater_than(0)
                .max(1)
                .help("lower clip of the per-update factor exp(nu f delta) (reference 0.9)"));
    set.add(Option::real("factor_max", 1.05).min(1).help("upper clip of the per-update factor (reference 1.05)"));
    return set;
  }

  explicit DvbfConstrainedScheduler(const BuildContext& ctx)
      : c_(ctx.options, ctx.path),
        nu_(ctx.options.real("nu")),
        tau_(ctx.options.real("tau")),
        update_every_(ctx.options.integer("update_every")),
        factor_min_(ctx.options.real("factor_min")),
        factor_max_(ctx.options.real("factor_max")),
        clamp_(ctx.options, ctx.path),
        lambda_(clamp_.init()) {}

  // The reference leaves the KL term out of the loss in the initial phase: beta = 0.
  double beta() const override { return main_ ? 1.0 / lambda_ : 0.0; }
  bool train_prior() const override { return main_; }
  std::string phase() const override { return main_ ? "main" : "initial"; }

  nlohmann::json check_baseline(const ConstraintBaseline& baseline) override {
    return c_.check_baseline(baseline, "dvbf_constrained",
                             fmt::format("dvbf_constrained will leave its initial phase as soon as the autoencoder meets "
                                         "it and then act like beta = 1 (beta = 1/lambda starts at {:.3g} and the tanh "
                                         "pull holds lambda near 1)",
                                         1.0 / lambda_));
  }

  void update(const SchedulerInput& in) override {
    c_.update(in);
    if (!main_ && c_.satisfied()) main_ = true;  // permanent
    if (main_ && in.step % update_every_ == 0) update_lambda();
    // A main-phase step binds when Ĉ_t >= threshold (the constraint pushes lambda up), as for
    // rewo and geco.
    c_.record(in, main_, main_ && c_.delta() >= 0.0, beta());
  }

  std::map<std::string, double> metrics() const override {
    auto m = c_.metrics();
    m["lambda"] = lambda_;
    return m;
  }

  nlohmann::json state() const override { return {{"constraint", c_.state()}, {"lambda", lambda_}, {"main", main_}}; }
  void load_state(const nlohmann::json& s) override {
    c_.load_state(s.at("constraint"));
    lambda_ = s.at("lambda").get<double>();
    main_ = s.at("main").get<bool>();
  }

 private:
  // update_dual_variables() of the reference, one line for each of its lines.
  void update_lambda() {
    double squashing = 1.0;  // squashing = 1.0
    if (c_.satisfied()) squashing = -std::tanh(tau_ * (1.0 / lambda_ - 1.0));  // if constrain < eps: -tanh(...)
    // momentum = clamp(exp(nu * squashing * (constrain - eps)), 0.9, 1.05); an overflowing exp
    // (+inf) is clipped like any other large factor.
    const double momentum = std::clamp(std::exp(nu_ * squashing * c_.delta()), factor_min_, factor_max_);
    lambda_ = clamp_.clamp(lambda_ * momentum);  // clamp(lambda * momentum, 1e-6, 1e8)
  }

  ConstraintAverage c_;
  double nu_, tau_;
  std::int64_t update_every_;
  double factor_min_, factor_max_;
  LambdaClamp clamp_;
  double lambda_;
  bool main_ = false;  // the reference's `not _initial_phase`
};

}  // namespace

PRIORLAB_PLUGIN(Scheduler, dvbf_constrained, DvbfConstrainedScheduler, "1.0.0",
                "the DVBF authors' constrained update: reconstruction alone until met, then lambda = 1/beta per 100 steps")
