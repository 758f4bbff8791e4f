// Scheduler "pi_controller": ControlVAE's non-linear PI controller of beta (Shao et al. 2020,
// ICML), as the authors' reference code computes it: shj1987/ControlVAE-ICML2020,
// Image_generation/PID.py, PIDControl.pid, which Image_generation/solver.py calls once per
// training step with Kp = 0.01, Ki = -0.0001, Kd = 0 and the batch's KL. Line for line:
//
//   e_t = KL_target - KL_t                      error_k = exp_KL - kl_loss
//   P_t = Kp / (1 + exp(e_t))                   Pk = Kp * self._Kp_fun(error_k)   (scale = 1)
//   I_t = I_{t-1} + Ki e_t                      Ik = self.I_k1 + Ki * error_k
//   (anti-windup, see below)                    if self.W_k1 < 0 and self.W_k1 >= 1: Ik = self.I_k1
//   W_t = P_t + I_t + beta_min                  Wk = Pk + Ik
//   I and W are stored unclipped                self.W_k1 = Wk; self.I_k1 = Ik
//   beta = clip(W_t, beta_min, beta_max)        if Wk > 1: Wk = 1.0;  if Wk < 0: Wk = 0.0
//
// I starts at 0; the error is not clipped; only the output is. The "+ beta_min" is the paper's
// offset; the image-generation code has beta_min = 0 (and adds nothing), the disentangling
// code (Disentangling/P_PID.py: Pk = Kp * _Kp_fun(e) + 1, clipped below at 1) beta_min = 1.
// With beta_min = 0 every beta equals PID.py's to the bit.
//
// Anti-windup: the reference's test `W_k1 < 0 and W_k1 >= 1` never holds (nor does the paper's,
// on the clipped beta(t-1): ControlVAE-ICML2020 issue #3), so it has none, as `anti_windup:
// false` (the default). `anti_windup: true` is conditional integration: I is held on a step whose
// previous unclipped output W_{t-1} lay above beta_max while Ki e_t > 0 would raise it further,
// or below beta_min while Ki e_t < 0 would lower it. (Holding I whenever W_{t-1} lies outside,
// as P_PID.py does below 1, can lock the controller: an I that alone puts W past the clip is
// never integrated again, whatever the KL does.)
//
// KL_t is the batch's mean rate E_q[log q(z|x) - log p(z)], nats per example
// (SchedulerInput::rate): the reference's analytic KL(q(z|x) || N(0, I)) summed over dimensions,
// in expectation, and the only KL a learned prior has. The reference weighs step t's loss with
// the beta computed from step t's own batch (image generation); here beta is fixed before the
// forward pass, so step t's KL sets the beta of step t + 1 (as the authors' language-model code,
// Language_modeling/Text_gen_PTB/vae_train.py, does), and step 0 uses beta_init. The prior
// trains from the first step.
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
        .add(Option::real("kl_target", 0.0)
                 .min(0)
                 .help("the set point KL_target of the batch's mean rate, nats per example; required (0 is "
                       "refused): the reference sets it per dataset (170-200 on CelebA, 2 on PTB, 16-18 on dSprites)"))
        .add(Option::real("kp", 0.01).min(0).help("proportional gain Kp (the reference's runs: 0.01)"))
        .add(Option::real("ki", -0.0001)
                 .max(0)
                 .help("integral gain Ki, in the reference's sign: negative (its image runs: -0.0001); 0 = P only"))
        .add(Option::real("beta_min", 0.0)
                 .min(0)
                 .help("lower clip of beta, also added to the output (the paper's offset; the reference: 0)"))
        .add(Option::real("beta_max", 1.0).greater_than(0).help("upper clip of beta (the reference: 1)"))
        .add(Option::real("beta_init", 1.0)
                 .min(0)
                 .help("beta of step 0, before any KL is seen; from step 1 on, beta is the controller's output for "
                       "the previous step's KL"))
        .add(Option::boolean("anti_windup", false)
                 .help("hold I while the previous unclipped output lay outside [beta_min, beta_max] and the error "
                       "would push it further out (the reference's anti-windup never acts: false reproduces it)"));
  }

  explicit PiControllerScheduler(const BuildContext& ctx)
      : target_(ctx.options.real("kl_target")),
        kp_(ctx.options.real("kp")),
        ki_(ctx.options.real("ki")),
        beta_min_(ctx.options.real("beta_min")),
        beta_max_(ctx.options.real("beta_max")),
        anti_windup_(ctx.options.boolean("anti_windup")),
        beta_(ctx.options.real("beta_init")),
        output_(beta_),
        path_(ctx.path) {
    for (const char* key : {"kl_target", "kp", "ki", "beta_min", "beta_max", "beta_init"})
      if (!std::isfinite(ctx.options.real(key)))
        throw Error(ctx.path + "/options/" + key, fmt::format("must be finite; found {}", ctx.options.real(key)));
    if (!(target_ > 0))
      throw Error(ctx.path + "/options/kl_target",
                  "set the KL the controller holds, nats per example (ControlVAE's set point, chosen per dataset: "
                  "the reference's runs use 170-200 on CelebA, 2 on PTB, 16-18 on dSprites); found 0");
    if (!(beta_min_ < beta_max_))
      throw Error(ctx.path + "/options/beta_min",
                  fmt::format("must be below beta_max = {}; found {}", beta_max_, beta_min_));
    if (beta_ < beta_min_ || beta_ > beta_max_)
      throw Error(ctx.path + "/options/beta_init",
                  fmt::format("must lie in [beta_min, beta_max] = [{}, {}]; found {}", beta_min_, beta_max_, beta_));
  }

  double beta() const override { return beta_; }
  bool train_prior() const override { return true; }
  std::string phase() const override { return "control"; }

  // PIDControl.pid, in its order (see the top of this file).
  void update(const SchedulerInput& in) override {
    if (!std::isfinite(in.rate))
      throw Error(path_, fmt::format("step {}: the batch's rate, the KL that pi_controller holds at kl_target, is {}; "
                                     "it reads SchedulerInput::rate, the batch mean of log q(z|x) - log p(z) in nats "
                                     "(NaN: the caller did not set it)",
                                     in.step + 1, in.rate));
    error_ = target_ - in.rate;                               // error_k = exp_KL - kl_loss
    const double p = kp_ * (1.0 / (1.0 + std::exp(error_)));  // Pk; exp overflows (e > 709) to inf: P = 0
    const double step = ki_ * error_;                         // Ki * error_k
    const bool held = anti_windup_ && ((output_ > beta_max_ && step > 0) || (output_ < beta_min_ && step < 0));
    if (!held) integral_ += step;                       // Ik = self.I_k1 + Ki * error_k
    output_ = p + integral_ + beta_min_;                // Wk = Pk + Ik (+ beta_min; exact for 0)
    beta_ = std::clamp(output_, beta_min_, beta_max_);  // the reference's two ifs
  }

  /// "kl_error" (e_t = kl_target - KL_t), "integral" (I_t), "output" (W_t, before the clip),
  /// "kl_target".
  std::map<std::string, double> metrics() const override {
    return {{"kl_error", error_}, {"integral", integral_}, {"output", output_}, {"kl_target", target_}};
  }

  nlohmann::json state() const override {
    return {{"beta", beta_}, {"integral", integral_}, {"output", output_}, {"error", error_}};
  }
  void load_state(const nlohmann::json& s) override {
    try {
      beta_ = s.at("beta").get<double>();
      integral_ = s.at("integral").get<double>();
      output_ = s.at("output").get<double>();
      error_ = s.at("error").get<double>();
    } catch (const nlohmann::json::exception& e) {
      throw Error("scheduler state",
                  fmt::format("pi_controller: {} (it holds beta, integral, output, error)", e.what()));
    }
  }

 private:
  double target_, kp_, ki_, beta_min_, beta_max_;
  bool anti_windup_;
  double beta_;    // beta for the next step: clip(W_t), or beta_init before the first update
  double output_;  // W_t = P_t + I_t + beta_min, unclipped (the reference's W_k1); beta_init at first
  std::string path_;
  double integral_ = 0.0;  // I_t (the reference's I_k1), unclipped
  double error_ = 0.0;     // e_t, for metrics
};

}  // namespace

PRIORLAB_PLUGIN(
    Scheduler, pi_controller, PiControllerScheduler, "1.0.0",
    "ControlVAE's PI controller (Shao et al. 2020): beta = clip(Kp / (1 + exp(KL_target - KL)) + I + beta_min)")
