// Interface: the beta schedule (and the phase that decides which parameters train).
#pragma once

#include <cstdint>
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

  /// Everything update() changed, for checkpoints; load_state(state()) restores it exactly.
  virtual nlohmann::json state() const = 0;
  virtual void load_state(const nlohmann::json& state) = 0;
};

}  // namespace priorlab
