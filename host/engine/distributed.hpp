// Data-parallel training on LibTorch's c10d (issue 14; docs/distributed.md): how a process
// learns its rank (torchrun's or Slurm's variables), the process group (Gloo on CPU, NCCL on a
// CUDA build that has it), and the collectives the trainer needs: parameters broadcast from
// rank 0, gradients averaged in a few flat buckets, small statistics summed.
#pragma once

#include <chrono>
#include <functional>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "priorlab/math.hpp"

namespace priorlab::host {

/// Where this process stands in a data-parallel job, as a launcher said it.
struct Launch {
  int rank = 0, world = 1, local_rank = 0;
  std::string master_addr;
  int master_port = 0;
  std::string source;  ///< "torchrun" (RANK, WORLD_SIZE, ...) or "slurm" (SLURM_PROCID, ...)
};

/// The launch this process was started under, from `env` (the process environment when not
/// given): RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT as torchrun sets them, or,
/// inside an srun step, Slurm's SLURM_PROCID, SLURM_STEP_NUM_TASKS, SLURM_LOCALID with the first
/// node of SLURM_STEP_NODELIST (else SLURM_JOB_NODELIST) as master (MASTER_ADDR and MASTER_PORT,
/// when set, win; the port defaults to 29500). nullopt when neither set is present (a batch
/// script's own environment, outside srun, is one process). A set that is present but incomplete or out of range is an
/// Error naming the variable.
std::optional<Launch> launch_from_environment(const std::map<std::string, std::string>* env = nullptr);

/// The first host of a Slurm node list: "node[03-05,9],gpu1" -> "node03".
std::string first_slurm_host(const std::string& nodelist);

/// The rows of a global batch of `global` examples that rank `rank` of `world` computes:
/// contiguous and in order, as even as integers allow (rank r: [r*B/W, (r+1)*B/W)).
BatchShard shard_of(std::int64_t global, int rank, int world);

/// The pipeline's "distributed" section (backend: auto | gloo | nccl; timeout_s).
struct DistributedOptions {
  std::string backend = "auto";
  double timeout_s = 300;
};
DistributedOptions distributed_options_of(const nlohmann::json& resolved_pipeline);

/// A c10d process group and the collectives of a training step. Every call is collective:
/// every rank makes the same calls in the same order. A failed or timed-out collective (a rank
/// died or hangs) throws Error naming what was being done.
class ProcessGroup {
 public:
  /// Joins the group: rank 0 serves the TCPStore at master_addr:master_port, the others
  /// connect to it, all within the timeout. "auto" is NCCL for a CUDA device, else Gloo.
  static std::unique_ptr<ProcessGroup> connect(const Launch& launch, const DistributedOptions& options,
                                               const torch::Device& device);
  ~ProcessGroup();

  int rank() const { return launch_.rank; }
  int world() const { return launch_.world; }
  /// "rank r of W": where this rank's errors are located.
  std::string name() const;
  const std::string& backend() const { return backend_; }

  /// Rank 0's values into every rank's tensors (flattened into one buffer per dtype).
  void broadcast(const std::vector<torch::Tensor>& tensors);
  /// grad <- sum over ranks of (weight_r * grad_r), in place, for every defined gradient of
  /// `params`: coalesced into flat buckets of at most `bucket_bytes`, one all-reduce each.
  void reduce_gradients(const std::vector<torch::Tensor>& params, double weight, std::int64_t bucket_bytes = 25 << 20);
  /// Sums `t` over ranks in place (the per-step statistics: a few doubles).
  void sum(torch::Tensor& t, const std::string& what);
  /// Every rank's value of `v` (a small integer, e.g. a step or a status), gathered.
  std::vector<std::int64_t> gather(std::int64_t v, const std::string& what);
  /// Every rank's rows of `t` [n_r, ...] concatenated in rank order (a data-parallel
  /// evaluation's per-example values; n_r may differ, the other dimensions and the dtype must
  /// not). The result is on the CPU. Not counted in reduced_bytes().
  torch::Tensor gather_rows(const torch::Tensor& t, const std::string& what);
  /// Bytes, calls and wall seconds of the all-reduces so far (summary.json's "distributed").
  std::int64_t reduced_bytes() const { return reduced_bytes_; }
  std::int64_t reduce_calls() const { return reduce_calls_; }
  double reduce_seconds() const { return reduce_seconds_; }

 private:
  struct Impl;  // the c10d store and group (their headers stay in distributed.cpp)
  ProcessGroup();
  void wait(const std::string& what, const std::function<void()>& collective);
  /// One all-reduce (sum) of `t` in place, counted and timed for the figures above.
  void allreduce(const at::Tensor& t, const std::string& what);
  /// After a failed collective: which other ranks' heartbeats stopped ("" if none or unknown).
  std::string silent_ranks();

  Launch launch_;
  std::string backend_;
  std::unique_ptr<Impl> impl_;
  std::int64_t reduced_bytes_ = 0, reduce_calls_ = 0;
  double reduce_seconds_ = 0;
};

/// Runs `f` on rank 0 only (everywhere when `group` is null), and tells every rank whether it
/// worked: rank 0 rethrows its own error, the others throw Error("rank r of W", "rank 0 failed
/// <what> ..."). What only the writer does (the run folder) is wrapped in it, so that no rank
/// goes on alone to wait for a collective its peer will never make.
void run_on_rank0(ProcessGroup* group, const std::string& what, const std::function<void()>& f);

/// `priorlab run|resume --nproc N`: starts N copies of this executable with `args` (the
/// command line less --nproc) as ranks 0..N-1 of a Gloo group on 127.0.0.1 (RANK, WORLD_SIZE,
/// LOCAL_RANK, MASTER_ADDR, MASTER_PORT set; a free port), in their own process group. SIGINT
/// and SIGTERM are passed on to all of them; each dies with this process (PDEATHSIG).
/// When one exits non-zero the others get `grace_s` to exit by themselves, then SIGTERM, then
/// SIGKILL. Returns rank 0's exit code if it failed, else the first non-zero one, else 0.
int run_local_ranks(int nproc, const std::vector<std::string>& args, double grace_s = 30);

}  // namespace priorlab::host
