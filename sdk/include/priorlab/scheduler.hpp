// Interface: the beta schedule (and the phase that decides which parameters train).
#pragma once

#include <cstdint>
#include <limits>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "priorlab/export.hpp"

namespace priorlab {

/// Everything a scheduler sees of one training step, computed in one place by the trainer
/// (and, with several processes, averaged across them there) so all ranks agree on beta.
struct SchedulerInput {
  std::int64_t step = 0;               ///< the step just taken, counted from 0
  double epoch = 0.0;                  ///< (step + 1) / steps_per_epoch: epochs completed
  double nll_per_dim = 0.0;            ///< batch mean of -log p(x|z) / data dimension
  double squared_error_per_dim = 0.0;  ///< batch mean of ||x - mean||^2 / data dimension
  /// Batch mean of the rate E_q[log q(z|x) - log p(z)], nats per example (the KL that a
  /// KL-targeting controller such as ControlVAE's reads); NaN where the caller does not know it.
  double rate = std::numeric_limits<double>::quiet_NaN();
};

/// The error that a decoder ignoring z attains on the training split, per data dimension, in
/// both constraint measures: it predicts the training mean for every example. A threshold at or
/// above it is met by a collapsed model, so the constraint cannot bind (DESIGN §4). The trainer
/// measures it before the first step and hands it to the scheduler (check_baseline).
struct ConstraintBaseline {
  double nll_per_dim = std::numeric_limits<double>::quiet_NaN();  ///< mean of -log p(x | mean image) / D; NaN when the network cannot say
  double squared_error_per_dim = std::numeric_limits<double>::quiet_NaN();  ///< mean of ||x - mean image||^2 / D
  std::int64_t examples = 0;  ///< training examples measured
};

class PRIORLAB_API Scheduler {
 public:
  static constexpr const char* kind = "scheduler";
  virtual ~Scheduler();

  /// beta for the next step's loss.
  virtual double beta() const = 0;

  /// Whether the prior's parameters are optimised in the next step (false during REWO's
  /// initial phase; the encoder and decoder always are).
  virtual bool train_prior() const = 0;

  /// A short name of the current phase ("initial", "main", "warmup", "constant", ...).
  virtual std::string phase() const = 0;

  /// Called once after every optimiser step with that step's batch statistics.
  virtual void update(const SchedulerInput& input) = 0;

  /// Extra scalars to log each step (e.g. "C_hat", "kappa2", "lambda"); may be empty.
  virtual std::map<std::string, double> metrics() const = 0;

  /// Called before training with the baseline error. A constrained scheduler returns its guard
  /// report (ConstraintAverage::check_baseline: measure, threshold, baseline, can_bind, and a
  /// "warning" line when the threshold cannot bind), which the host prints and records in
  /// summary.json; the default (no constraint) returns null.
  virtual nlohmann::json check_baseline(const ConstraintBaseline& baseline);

  /// Everything update() changed, for checkpoints; load_state(state()) restores it exactly.
  virtual nlohmann::json state() const = 0;
  virtual void load_state(const nlohmann::json& state) = 0;
};

}  // namespace priorlab
