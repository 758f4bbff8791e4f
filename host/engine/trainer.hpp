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

#include "engine/collapse.hpp"
#include "engine/distributed.hpp"
#include "engine/tensorboard.hpp"
#include "pipeline/pipeline.hpp"

namespace priorlab::host {

/// Seeds come from priorlab::mix_seed (math.hpp, included through distributed.hpp): per-step
/// seeds that do not depend on what ran before, so a resumed run draws the same batches and
/// noise as an uninterrupted one.

/// The error of a decoder that ignores z on the pipeline's training split, per data dimension:
/// it predicts the training mean m for every example. squared_error_per_dim is the mean of
/// ||x - m||^2 / D (the average per-dimension variance); nll_per_dim the mean of
/// -log p(x | network->params_for_mean(m)) / D under the network's likelihood as initialised
/// (NaN when the network cannot give params for a mean). One draw of the data (draw seed fixed).
ConstraintBaseline constraint_baseline(Pipeline& pipeline);

/// The checkpoints in folder `dir` (a run's checkpoints/), as (step, path), oldest first.
std::vector<std::pair<std::int64_t, std::string>> list_checkpoints(const std::string& dir);

/// The checkpoint of run folder `run_dir` at `step`, or its newest without one, as (step, path).
/// Throws Error at `run_dir` saying it "has no checkpoint to <purpose>" when checkpoints/ is empty,
/// and at `step_where` (how the caller's user named the step: "--checkpoint 300") listing the
/// steps it has when none is at `step`.
std::pair<std::int64_t, std::string> find_checkpoint(const std::string& run_dir, std::optional<std::int64_t> step,
                                                     const std::string& purpose, const std::string& step_where);

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
  /// summary.json's "collapse": which stochastic layers are alive at the last logging interval
  /// (null when the diagnostics are off or nothing was logged).
  nlohmann::json collapse_summary() const { return collapse_.summary(); }
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
  /// The number of processes the restored checkpoint was trained with (0: not recorded).
  std::int64_t checkpoint_world() const { return checkpoint_world_; }

  /// Makes this trainer one rank of a data-parallel run (docs/distributed.md), before
  /// restore_latest() and train(). Each rank computes its shard of the global batch (shard_of),
  /// draws the noise one process would (BatchShard), and the ranks sum the per-step statistics
  /// (weighted by shard size) and the gradients, so that every rank takes the same step and its
  /// scheduler sees the global batch's figures; parameters are broadcast from rank 0 when train()
  /// starts. Only rank 0 (the writer) writes the run folder. A Ctrl-C on any rank stops every
  /// rank after the same step.
  void set_process_group(ProcessGroup* group);
  bool writer() const { return writer_; }
  ProcessGroup* process_group() const { return group_; }
  /// summary.json's "distributed" for a data-parallel run (null for one process): world size,
  /// backend, the all-reduces of this session (calls, MB, seconds) and their share of the
  /// session's training time, per step.
  nlohmann::json distributed_summary() const;

 private:
  void clear_gradients();
  void fill_missing_gradients();
  /// save_checkpoint() on the writer, with every rank told whether it worked (run_on_rank0: a
  /// rank that went on alone would wait for the writer's next collective until the timeout).
  void save_checkpoint_agreed();
  torch::Tensor batch_indices(std::int64_t step);
  void log_interval();
  /// What every step of train() uses (defined in trainer.cpp).
  struct StepContext;
  /// The constraint guard's report and the event file, before a session's first step.
  void start_training(const std::string& scheduler_name);
  /// One training step, then the interval's record and the checkpoint when they are due.
  void train_step(StepContext& context);
  /// The step's statistics on the host, summed over the ranks (with their stop flags) for a group.
  torch::Tensor global_statistics(torch::Tensor& stats, double shard_weight);
  /// Backward, the gradients reduced over the ranks, and the optimisers' steps.
  void update_parameters(const torch::Tensor& loss, double beta, bool train_prior, double shard_weight);
  /// The interval's record and progress line at log_every (and the last step), else the bar.
  void report_step(StepContext& context);

  Pipeline& p_;
  std::string run_dir_;
  bool interactive_;
  const std::atomic<bool>* stop_;
  std::int64_t iterations_, batch_size_, log_every_, checkpoint_every_, keep_checkpoints_;
  std::int64_t step_ = 0;
  std::int64_t checkpoint_threads_ = 0, checkpoint_world_ = 0;
  ProcessGroup* group_ = nullptr;  // null: one process
  std::vector<torch::Tensor> shared_params_;  // network's then prior's: broadcast, gradients reduced
  bool writer_ = true;             // rank 0, or the only process
  bool stop_agreed_ = false;       // some rank was asked to stop: every rank stops before the next step
  std::int64_t session_steps_ = 0; // steps trained in this session (for distributed_summary)
  double wall_before_ = 0;  // seconds spent in earlier sessions of this run
  std::chrono::steady_clock::time_point session_start_;
  std::unique_ptr<torch::optim::Adam> opt_network_, opt_prior_;
  bool reference_step_ = false;  // PRIORLAB_REFERENCE_STEP=1: LibTorch's Adam and zero_grad()
  bool prior_rate_weight_one_ = false;  // training.prior_loss_weight = one (the lambda form)
  // Per-epoch permutation cache.
  std::int64_t perm_epoch_ = -1;
  torch::Tensor perm_;
  // Sums over the current logging interval: loss, distortion, rate, nll/dim, sq/dim.
  torch::Tensor interval_sums_;
  std::int64_t interval_steps_ = 0;
  nlohmann::json last_metrics_;
  nlohmann::json constraint_guard_;
  CollapseMonitor collapse_;
  std::vector<std::string> collapse_lines_;  // said by train() after the interval's progress line
  std::unique_ptr<EventWriter> events_;  // tensorboard/, opened by train() unless "tensorboard": false
};

}  // namespace priorlab::host
