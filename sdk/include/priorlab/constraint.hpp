// The reconstruction constraint shared by the constrained-optimisation schedulers (REWO, GECO,
// dvbf_constrained), and the clamped Lagrange multiplier of GECO and dvbf_constrained:
// which per-dimension error is the constraint C, its threshold, the running average Ĉ_t, the
// guard against a threshold that cannot bind, and the record of how often it did bind.
//
//   C_ba  = the batch's reconstruction error per data dimension (SchedulerInput), chosen by
//           `measure`: "nll" -> nll_per_dim, "squared_error" -> squared_error_per_dim.
//   Ĉ_t   = (1 - alpha) * C_ba + alpha * Ĉ_{t-1},   Ĉ_0 = C_ba   (so Ĉ_1 = C_ba exactly).
//   delta = Ĉ_t - threshold, where `threshold` is compared with Ĉ directly: it is the paper's κ².
//
// The guard (DESIGN §4): a decoder that ignores z and predicts the training mean attains
// ConstraintBaseline's error. A threshold at or above it is met by a collapsed model, so the
// constraint cannot bind: GECO's beta then rises to its clamp, and REWO leaves its initial phase
// at once and acts like beta = 1.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "priorlab/export.hpp"
#include "priorlab/options.hpp"
#include "priorlab/scheduler.hpp"

namespace priorlab {

class PRIORLAB_API ConstraintAverage {
 public:
  /// Declares threshold, measure and alpha on `set` (the first options of each scheduler).
  static OptionSet& declare(OptionSet& set);

  /// Reads the options declared by declare(); `path` is the plugin's section for errors.
  ConstraintAverage(const Options& options, const std::string& path);

  /// The chosen measure of one step's batch.
  double measure(const SchedulerInput& in) const { return squared_error_ ? in.squared_error_per_dim : in.nll_per_dim; }
  /// "nll" or "squared_error".
  std::string measure_name() const { return squared_error_ ? "squared_error" : "nll"; }

  /// Takes one step's batch statistics in and returns the new Ĉ_t.
  double update(const SchedulerInput& in);

  /// Ĉ_t − threshold for the latest Ĉ_t.
  double delta() const { return c_hat_ - threshold_; }
  /// Whether the constraint holds strictly: Ĉ_t < threshold.
  bool satisfied() const { return seen_ && c_hat_ < threshold_; }

  double c_hat() const { return c_hat_; }
  double c_ba() const { return c_ba_; }
  double threshold() const { return threshold_; }
  bool seen() const { return seen_; }

  /// The guard report for summary.json: {"scheduler", "measure", "threshold", "baseline" (in
  /// this measure; null when unknown), "baseline_nll_per_dim", "baseline_squared_error_per_dim",
  /// "examples", "can_bind"} and, when the threshold is at or above the baseline, "warning": one
  /// line naming both numbers, ending with `consequence` (what the scheduler will do then).
  nlohmann::json check_baseline(const ConstraintBaseline& baseline, const std::string& scheduler,
                                const std::string& consequence) const;

  /// Records one step after the scheduler's update: `main` whether it was a main-phase step,
  /// `bound` whether the constraint bound on it (the scheduler's own criterion), `beta` the
  /// beta after the update. Feeds binding_share and beta_one_step in metrics().
  void record(const SchedulerInput& in, bool main, bool bound, double beta);

  /// {"threshold"}, once a step was seen {"C_hat", "C_ba"}, once a main-phase step was seen
  /// {"binding_share": bound / main-phase steps}, and once beta reached 1 {"beta_one_step": the
  /// number of steps done when it first did, as metrics.jsonl counts steps}.
  std::map<std::string, double> metrics() const;

  /// Main-phase steps recorded so far (record() with main true); a scheduler that acts every n
  /// main-phase steps reads its count here instead of keeping its own.
  std::int64_t main_steps() const { return main_steps_; }

  nlohmann::json state() const;
  void load_state(const nlohmann::json& s);

 private:
  double threshold_;
  double alpha_;
  bool squared_error_;
  bool seen_ = false;
  double c_hat_ = 0.0;
  double c_ba_ = 0.0;
  std::int64_t main_steps_ = 0, bound_steps_ = 0, beta_one_step_ = -1;
};

/// The Lagrange multiplier's start and clamp of the schedulers with beta = 1 / lambda (GECO,
/// dvbf_constrained): options lambda_init, lambda_min and lambda_max, declared and checked in one
/// place. Unclamped, lambda overflows while the constraint is far from met; the authors' clamp
/// (argmax-ai/deep-variational-bayes-filters) is [1e-6, 1e8].
class PRIORLAB_API LambdaClamp {
 public:
  /// Declares lambda_init (described by `init_help`), lambda_min and lambda_max on `set`.
  static OptionSet& declare(OptionSet& set, const std::string& init_help);

  /// Reads them; throws Error at `path`/options/... unless lambda_min <= lambda_init <= lambda_max.
  LambdaClamp(const Options& options, const std::string& path);

  double init() const { return init_; }
  double min() const { return min_; }
  double max() const { return max_; }
  /// lambda clamped to [lambda_min, lambda_max] (an overflowing inf or an underflowing 0 included).
  double clamp(double lambda) const { return lambda < min_ ? min_ : lambda > max_ ? max_ : lambda; }

 private:
  double init_, min_, max_;
};

}  // namespace priorlab
