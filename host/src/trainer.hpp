// The training loop: batches, objective, scheduler, optimiser steps, metrics and checkpoints.
#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "pipeline.hpp"
#include "tensorboard.hpp"

namespace priorlab::host {

/// A stable 64-bit mix of (seed, a, b): per-step seeds that do not depend on what ran before,
/// so a resumed run draws the same batches and noise as an uninterrupted one (splitmix64).
std::uint64_t mix_seed(std::uint64_t seed, std::uint64_t a, std::uint64_t b = 0);

/// The error of a decoder that ignores z on the pipeline's training split, per data dimension:
/// it predicts the training mean m for every example. squared_error_per_dim is the mean of
/// ||x - m||^2 / D (the average per-dimension variance); nll_per_dim the mean of
/// -log p(x | network->params_for_mean(m)) / D under the network's likelihood as initialised
/// (NaN when the network cannot give params for a mean). One draw of the data (draw seed fixed).
ConstraintBaseline constraint_baseline(Pipeline& pipeline);

/// The checkpoints in folder `dir` (a run's checkpoints/), as (step, path), oldest first.
std::vector<std::pair<std::int64_t, std::string>> list_checkpoints(const std::string& dir);

class Trainer {
 public:
  /// `run_dir` holds metrics.jsonl and checkpoints/. `stop` is polled every step (SIGINT).
  Trainer(Pipeline& pipeline, std::string run_dir, bool interactive, const std::atomic<bool>* stop = nullptr);

  /// Restores the newest intact checkpoint in run_dir/checkpoints, if any, and truncates
  /// metrics.jsonl to the steps it covers (a malformed line is dropped, the lines after it
  /// kept). A checkpoint whose bytes disagree with its checksum file, or that cannot be read, is
  /// passed over for the one before it, and said. One written by another pipeline (identity or
  /// tensor shapes) is refused: Error. Returns the restored step (0 when none).
  std::int64_t restore_latest();

  /// Trains until training.iterations steps are done, or `stop` is set, or `pause_at` steps
  /// are done (in the last two cases a checkpoint is written, as on Ctrl-C). Throws
  /// Error("training step N", ...) on a non-finite loss; checkpoints written before stay valid
  /// and nothing half-written is left.
  void train(std::int64_t pause_at = -1);

  std::int64_t step() const { return step_; }
  bool finished() const { return step_ >= iterations_; }
  /// The scheduler's guard report (check_baseline), made when train() starts; null for a
  /// scheduler without a constraint.
  const nlohmann::json& constraint_guard() const { return constraint_guard_; }
  /// The last metrics.jsonl record (empty before the first).
  const nlohmann::json& last_metrics() const { return last_metrics_; }
  double wall_seconds() const;

  /// Writes checkpoints/step_NNNNNNNN.pt atomically, with its checksum file beside it (after
  /// checking the free space), and prunes old ones. A failed write is an Error naming the file.
  void save_checkpoint();
  /// Loads one checkpoint file (parameters, optimiser and scheduler state, step) after checking
  /// its checksum, that it belongs to this pipeline (run_identity) and every tensor's shape.
  void load_checkpoint(const std::string& path);
  /// The intra-op thread count the restored checkpoint was trained with (0: not recorded).
  std::int64_t checkpoint_threads() const { return checkpoint_threads_; }

 private:
  void clear_gradients();
  void fill_missing_gradients();
  torch::Tensor batch_indices(std::int64_t step);
  void log_interval();

  Pipeline& p_;
  std::string run_dir_;
  bool interactive_;
  const std::atomic<bool>* stop_;
  std::int64_t iterations_, batch_size_, log_every_, checkpoint_every_, keep_checkpoints_;
  std::int64_t step_ = 0;
  std::int64_t checkpoint_threads_ = 0;
  double wall_before_ = 0;  // seconds spent in earlier sessions of this run
  std::chrono::steady_clock::time_point session_start_;
  std::unique_ptr<torch::optim::Adam> opt_network_, opt_prior_;
  bool reference_step_ = false;  // PRIORLAB_REFERENCE_STEP=1: LibTorch's Adam and zero_grad()
  // Per-epoch permutation cache.
  std::int64_t perm_epoch_ = -1;
  torch::Tensor perm_;
  // Sums over the current logging interval: loss, distortion, rate, nll/dim, sq/dim.
  torch::Tensor interval_sums_;
  std::int64_t interval_steps_ = 0;
  nlohmann::json last_metrics_;
  nlohmann::json constraint_guard_;
  std::unique_ptr<EventWriter> events_;  // tensorboard/, opened by train() unless "tensorboard": false
};

}  // namespace priorlab::host
