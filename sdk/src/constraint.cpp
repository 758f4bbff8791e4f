#include "priorlab/constraint.hpp"

#include <cmath>

#include <fmt/format.h>

#include "priorlab/error.hpp"

namespace priorlab {

OptionSet& ConstraintAverage::declare(OptionSet& set) {
  set.add(Option::real("threshold", 0.18)
              .help("constraint threshold compared with the running average C_hat directly (the paper's kappa^2); "
                    "set it per dataset and measure"));
  set.add(Option::string("measure", "nll")
              .choices({"nll", "squared_error"})
              .help("constraint C per data dimension: nll = -log p(x|z), squared_error = ||x - mean||^2"));
  set.add(Option::real("alpha", 0.99).min(0).less_than(1).help(
      "running-average weight of the previous C_hat (alpha = 1 would freeze C_hat at the first batch)"));
  return set;
}

ConstraintAverage::ConstraintAverage(const Options& options, const std::string& path)
    : threshold_(options.real("threshold")),
      alpha_(options.real("alpha")),
      squared_error_(options.string("measure") == "squared_error") {
  (void)path;  // alpha's range is the declaration's: validate and run read the same one
}

double ConstraintAverage::update(const SchedulerInput& in) {
  c_ba_ = measure(in);
  c_hat_ = seen_ ? (1.0 - alpha_) * c_ba_ + alpha_ * c_hat_ : c_ba_;
  seen_ = true;
  return c_hat_;
}

nlohmann::json ConstraintAverage::check_baseline(const ConstraintBaseline& b, const std::string& scheduler,
                                                 const std::string& consequence) const {
  const double baseline = squared_error_ ? b.squared_error_per_dim : b.nll_per_dim;
  auto number_or_null = [](double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(); };
  nlohmann::json report = {{"scheduler", scheduler},
                           {"measure", measure_name()},
                           {"threshold", threshold_},
                           {"baseline", number_or_null(baseline)},
                           {"baseline_nll_per_dim", number_or_null(b.nll_per_dim)},
                           {"baseline_squared_error_per_dim", number_or_null(b.squared_error_per_dim)},
                           {"examples", b.examples}};
  if (!std::isfinite(baseline)) {
    report["can_bind"] = nullptr;  // the network cannot score the mean image in this measure
    return report;
  }
  report["can_bind"] = threshold_ < baseline;
  if (threshold_ >= baseline)
    report["warning"] = fmt::format(
        "{}: threshold {:.4g} on the per-dimension {} is at or above {:.4g}, the error of a decoder that ignores z "
        "(it predicts the training mean): the constraint cannot bind; {}",
        scheduler, threshold_, measure_name(), baseline, consequence);
  return report;
}

void ConstraintAverage::record(const SchedulerInput& in, bool main, bool bound, double beta) {
  if (main) {
    ++main_steps_;
    bound_steps_ += bound ? 1 : 0;
  }
  // Within 1e-3 of 1 counts as 1. REWO's beta approaches 1 only asymptotically: near 1 its factor
  // is exp(nu tanh(tau (beta - 1)) delta) ~ exp(nu tau (1 - beta) |delta|), so 1 - beta shrinks
  // geometrically and any step with C_hat above the threshold pushes it back; measured on the
  // pendulum, beta was 0.9999 from step 5,000 on and never exactly 1.
  if (beta_one_step_ < 0 && beta >= 1.0 - 1e-3) beta_one_step_ = in.step + 1;
}

std::map<std::string, double> ConstraintAverage::metrics() const {
  std::map<std::string, double> m{{"threshold", threshold_}};
  if (seen_) {
    m["C_hat"] = c_hat_;
    m["C_ba"] = c_ba_;
  }
  if (main_steps_ > 0) m["binding_share"] = static_cast<double>(bound_steps_) / static_cast<double>(main_steps_);
  if (beta_one_step_ >= 0) m["beta_one_step"] = static_cast<double>(beta_one_step_);
  return m;
}

nlohmann::json ConstraintAverage::state() const {
  return {{"seen", seen_},           {"C_hat", c_hat_},         {"C_ba", c_ba_},
          {"main_steps", main_steps_}, {"bound_steps", bound_steps_}, {"beta_one_step", beta_one_step_}};
}

void ConstraintAverage::load_state(const nlohmann::json& s) {
  seen_ = s.at("seen").get<bool>();
  c_hat_ = s.at("C_hat").get<double>();
  c_ba_ = s.at("C_ba").get<double>();
  // Checkpoints from before the binding record carry none: it starts from there.
  main_steps_ = s.value("main_steps", std::int64_t{0});
  bound_steps_ = s.value("bound_steps", std::int64_t{0});
  beta_one_step_ = s.value("beta_one_step", std::int64_t{-1});
}

OptionSet& LambdaClamp::declare(OptionSet& set, const std::string& init_help) {
  set.add(Option::real("lambda_init", 1.0).greater_than(0).help(init_help));
  set.add(Option::real("lambda_min", 1e-6).greater_than(0).help("lower clamp of lambda (beta <= 1 / lambda_min; the authors' 1e-6)"));
  set.add(Option::real("lambda_max", 1e8).greater_than(0).help("upper clamp of lambda (beta >= 1 / lambda_max; the authors' 1e8)"));
  return set;
}

LambdaClamp::LambdaClamp(const Options& options, const std::string& path)
    : init_(options.real("lambda_init")), min_(options.real("lambda_min")), max_(options.real("lambda_max")) {
  if (!(min_ <= max_))
    throw Error(path + "/options/lambda_min", fmt::format("must not exceed lambda_max = {}; found {}", max_, min_));
  if (init_ < min_ || init_ > max_)
    throw Error(path + "/options/lambda_init",
                fmt::format("must lie in [lambda_min, lambda_max] = [{}, {}]; found {}", min_, max_, init_));
}

}  // namespace priorlab
