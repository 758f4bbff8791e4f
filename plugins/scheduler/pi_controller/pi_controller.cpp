// Scheduler "pi_controller": ControlVAE's PI controller of beta (Shao et al. 2020, ICML), as the
// authors' reference code computes it (shj1987/ControlVAE-ICML2020, Image_generation/PID.py,
// PIDControl.pid, called once per step by solver.py with Kp = 0.01, Ki = -0.0001, Kd = 0):
//
//   e_t = KL_target - KL_t                      error_k = exp_KL - kl_loss
//   P_t = Kp / (1 + exp(e_t))                   Pk = Kp * self._Kp_fun(error_k)
//   I_t = I_{t-1} + Ki e_t                      Ik = self.I_k1 + Ki * error_k
//   W_t = P_t + I_t                             Wk = Pk + Ik;  self.I_k1 = Ik
//   beta = clip(W_t, beta_min, beta_max)        if Wk > 1: Wk = 1.0;  if Wk < 0: Wk = 0.0
//
// I_0 = 0. The stored I is not clipped. The reference's anti-windup test
// (`if self.W_k1 < 0 and self.W_k1 >= 1: Ik = self.I_k1`) can never hold, so the reference has
// none; `anti_windup: true` applies what it evidently meant (keep I while the previous W lay
// outside [beta_min, beta_max]). KL_t is the batch's mean rate E_q[log q(z|x) - log p(z)]
// (SchedulerInput::rate): the reference's analytic KL to N(0, I), which a learned prior has not.
// The reference computes step t's beta from step t's own batch before its loss; here beta is
// fixed before the forward pass, so step t's KL sets the beta of step t + 1, and step 0 uses
// beta_init. The prior trains from the first step.
#include <algorithm>
#include <cmath>

#include <fmt/format.h>
#include <priorlab/sdk.hpp>

namespace {

using namespace priorlab;

class PiControllerScheduler : public Scheduler {
 public:
  static OptionSet options() {
    return OptionSet{}
        .add(Option::real("kl_target", 0.0).min(0).help(
            "the set point KL_target, nats per example (required: the reference sets it per dataset, 170-200 on "
            "CelebA, 16-18 on dSprites)"))
        .add(Option::real("kp", 0.01).min(0).help("proportional gain Kp (the reference's runs: 0.01)"))
        .add(Option::real("ki", -0.0001).max(0).help("integral gain Ki, negative (the reference's runs: -0.0001)"))
        .add(Option::real("beta_min", 0.0).min(0).help("lower clip of beta (the reference: 0)"))
        .add(Option::real("beta_max", 1.0).greater_than(0).help("upper clip of beta (the reference: 1)"))
        .add(Option::real("beta_init", 1.0).min(0).help(
            "beta of step 0, before any KL is seen (then beta follows the controller, one step behind the "
            "batch it reads)"))
        .add(Option::boolean("anti_windup", false).help(
            "keep I while the previous output lay outside [beta_min, beta_max] (the reference's test for this "
            "never holds: false reproduces it)"));
  }

  explicit PiControllerScheduler(const BuildContext& ctx)
      : target_(ctx.options.real("kl_target")),
        kp_(ctx.options.real("kp")),
        ki_(ctx.options.real("ki")),
        beta_min_(ctx.options.real("beta_min")),
        beta_max_(ctx.options.real("beta_max")),
        anti_windup_(ctx.options.boolean("anti_windup")),
        beta_(ctx.options.real("beta_init")),
        path_(ctx.path) {
    if (!(target_ > 0))
      throw Error(ctx.path + "/options/kl_target",
                  "set the KL the controller holds, in nats per example (ControlVAE's set point; the reference's "
                  "runs use 170-200 on CelebA and 16-18 on dSprites); found 0");
    if (!(beta_min_ < beta_max_))
      throw Error(ctx.path + "/options/beta_min", fmt::format("must be below beta_max = {}; found {}", beta_max_, beta_min_));
    if (beta_ < beta_min_ || beta_ > beta_max_)
      throw Error(ctx.path + "/options/beta_init",
                  fmt::format("must lie in [beta_min, beta_max] = [{}, {}]; found {}", beta_min_, beta_max_, beta_));
  }

  double beta() const override { return beta_; }
  bool train_prior() const override { return true; }
  std::string phase() const override { return "control"; }

  void update(const SchedulerInput& in) override {
    if (!std::isfinite(in.rate))
      throw Error(path_, fmt::format("step {}: the batch's rate (the KL it controls) is {}; the trainer passes it in "
                                     "SchedulerInput::rate",
                                     in.step + 1, in.rate));
    error_ = target_ - in.rate;                                // e_t
    const double p = kp_ * (1.0 / (1.0 + std::exp(error_)));  // Kp * _Kp_fun(e); exp overflow: inf -> P = 0
    const bool outside = seen_ && (w_ < beta_min_ || w_ > beta_max_);
    if (!(anti_windup_ && outside)) integral_ += ki_ * error_;  // I_t
    w_ = p + integral_;                                        // W_t, unclipped
    beta_ = std::clamp(w_, beta_min_, beta_max_);
    seen_ = true;
  }

  /// "kl_error" (e_t = target - KL), "integral" (I_t), "kl_target".
  std::map<std::string, double> metrics() const override {
    return {{"kl_error", error_}, {"integral", integral_}, {"kl_target", target_}};
  }

  nlohmann::json state() const override {
    return {{"beta", beta_}, {"integral", integral_}, {"output", w_}, {"error", error_}, {"seen", seen_}};
  }
  void load_state(const nlohmann::json& s) override {
    beta_ = s.at("beta").get<double>();
    integral_ = s.at("integral").get<double>();
    w_ = s.at("output").get<double>();
    error_ = s.at("error").get<double>();
    seen_ = s.at("seen").get<bool>();
  }

 private:
  double target_, kp_, ki_, beta_min_, beta_max_;
  bool anti_windup_;
  double beta_;
  std::string path_;
  double integral_ = 0.0, w_ = 0.0, error_ = 0.0;
  bool seen_ = false;
};

}  // namespace

PRIORLAB_PLUGIN(Scheduler, pi_controller, PiControllerScheduler, "1.0.0",
                "ControlVAE's PI controller (Shao et al. 2020): beta = clip(Kp / (1 + exp(KL_target - KL)) + I)")
