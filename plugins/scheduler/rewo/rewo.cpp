// Scheduler "rewo": REconstruction-error-based WeightinG of the objective (Klushyn et al. 2019,
// Eq. 12, 13, Alg. 1).
//
// Each step (update() runs after the optimiser step, with that step's batch statistics):
//   Ĉ_t = (1 - alpha) C_ba + alpha Ĉ_{t-1},  Ĉ_0 = C_ba            (priorlab/constraint.hpp)
//   initial phase: beta = beta_init frozen, only encoder/decoder train (train_prior() false),
//                  until Ĉ_t < threshold first holds; the switch is permanent.
//   main phase:    beta <- beta * exp(nu * f(beta, delta; tau) * delta),  delta = Ĉ_t - threshold,
//                  f(beta, delta; tau) = (1 - H(delta)) tanh(tau (beta - 1)) - H(delta),
//                  beta clamped to (0, 1].
// As in Alg. 1 the step on which the switch happens already updates beta. H(0) = 0, which is
// immaterial: f is multiplied by delta, so delta = 0 leaves beta unchanged for either choice.
// A main-phase step binds when beta < 1 after it: the constraint holds beta below the ELBO's.
#include <algorithm>
#include <cmath>
#include <limits>

#include <priorlab/constraint.hpp>
#include <priorlab/sdk.hpp>

namespace {

using namespace priorlab;

class RewoScheduler : public Scheduler {
 public:
  static OptionSet options() {
    OptionSet set;
    ConstraintAverage::declare(set);
    set.add(Option::real("nu", 1.0).greater_than(0).help("beta update rate nu (paper: 1; pendulum 5)"));
    set.add(Option::real("tau", 3.0).greater_than(0).help("slope tau of tanh(tau (beta - 1)) while the constraint holds"));
    set.add(Option::real("beta_init", 1e-6).greater_than(0).max(1).help("beta during the initial phase, in (0, 1]"));
    set.add(Option::integer("update_every", 1).min(1).help("update beta every n main-phase steps (from the switch step on)"));
    set.add(Option::real("max_factor", 0.0)
                .min(0)
                .help("clamp the per-update factor to [1/max_factor, max_factor]; 0 = no clamp (the paper)"));
    return set;
  }

  explicit RewoScheduler(const BuildContext& ctx)
      : c_(ctx.options, ctx.path),
        nu_(ctx.options.real("nu")),
        tau_(ctx.options.real("tau")),
        update_every_(ctx.options.integer("update_every")),
        max_factor_(ctx.options.real("max_factor")),
        beta_(ctx.options.real("beta_init")) {
    if (max_factor_ != 0.0 && max_factor_ < 1.0)
      throw Error(ctx.path + "/options/max_factor", "must be 0 (no clamp) or >= 1");
  }

  double beta() const override { return beta_; }
  bool train_prior() const override { return main_; }
  std::string phase() const override { return main_ ? "main" : "initial"; }

  nlohmann::json check_baseline(const ConstraintBaseline& baseline) override {
    return c_.check_baseline(baseline, "rewo",
                             "REWO will leave its initial phase as soon as the autoencoder meets it and then act like "
                             "beta = 1 (beta rises to 1 and stays)");
  }

  void update(const SchedulerInput& in) override {
    c_.update(in);
    if (!main_ && c_.satisfied()) main_ = true;  // permanent
    if (main_) update_beta();
    // A main-phase step binds when C_hat >= threshold (delta >= 0: the constraint pushes beta
    // down), as for GECO. Not "beta < 1": beta approaches 1 only asymptotically, so that would
    // count every step of a run whose constraint is comfortably met.
    c_.record(in, main_, main_ && c_.delta() >= 0.0, beta_);
  }

  std::map<std::string, double> metrics() const override { return c_.metrics(); }

  nlohmann::json state() const override {
    return {{"constraint", c_.state()}, {"beta", beta_}, {"main", main_}};
  }
  void load_state(const nlohmann::json& s) override {
    c_.load_state(s.at("constraint"));
    beta_ = s.at("beta").get<double>();
    main_ = s.at("main").get<bool>();  // a "main_steps" of an older checkpoint is c_'s count again
  }

 private:
  // One main-phase step of Eq. 12 (every update_every steps, from the switch step on). It runs
  // before this step is recorded, so c_.main_steps() counts the main-phase steps before it: 0 on
  // the switch step.
  void update_beta() {
    if (c_.main_steps() % update_every_ != 0) return;
    const double delta = c_.delta();
    const double heaviside = delta > 0.0 ? 1.0 : 0.0;  // H(0) = 0 (immaterial, see top)
    const double f = (1.0 - heaviside) * std::tanh(tau_ * (beta_ - 1.0)) - heaviside;
    double factor = std::exp(nu_ * f * delta);
    if (max_factor_ > 0.0) factor = std::clamp(factor, 1.0 / max_factor_, max_factor_);
    // (0, 1]: 1 is a fixed point of the update (tanh(0) = 0); the lower end only guards
    // against underflow to 0, from which a multiplicative update could never recover.
    beta_ = std::clamp(beta_ * factor, std::numeric_limits<double>::min(), 1.0);
  }

  ConstraintAverage c_;
  double nu_, tau_;
  std::int64_t update_every_;
  double max_factor_;
  double beta_;
  bool main_ = false;
};

}  // namespace

PRIORLAB_PLUGIN(Scheduler, rewo, RewoScheduler, "1.0.0",
                "REWO: beta from the reconstruction constraint, prior frozen until it first holds (Eq. 12, 13, Alg. 1)")
