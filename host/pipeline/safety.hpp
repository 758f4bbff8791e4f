// What keeps a run folder whole (issue 16): one writer at a time (RunLock), a checksum beside
// every checkpoint, a free-space check before one is written, the removal of temporary files
// that failed or killed writes left, and the checks that a checkpoint belongs to the pipeline
// that loads it (its identity record and each tensor's shape).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

namespace priorlab::host {

/// CRC-32C (Castagnoli: polynomial 0x1EDC6F41, reflected, initial and final XOR 0xFFFFFFFF),
/// the checksum of TensorBoard's records and of checkpoint files.
std::uint32_t crc32c(const void* data, std::size_t size);

/// An advisory lock (flock) on a run folder's `.lock` file, held for the object's life. A run,
/// resume or evaluate holds it, so a second process on the same folder is refused instead of
/// interleaving metrics.jsonl. The kernel drops the lock when the process dies: none is stale.
class RunLock {
 public:
  /// Takes the lock of `run_dir` (creating `.lock`), or throws Error(run_dir, "... held by pid
  /// N (priorlab <what>) ...") when another process holds it. The file records this pid.
  static RunLock acquire(const std::filesystem::path& run_dir, const std::string& what);
  /// The pid recorded in run_dir/.lock, or 0.
  static long holder(const std::filesystem::path& run_dir);

  RunLock(RunLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  RunLock& operator=(RunLock&& other) noexcept;
  RunLock(const RunLock&) = delete;
  RunLock& operator=(const RunLock&) = delete;
  ~RunLock();

 private:
  explicit RunLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

/// Throws Error(dir, "needs X for <what>, Y free on the file system (Z missing)") unless the
/// file system holding `dir` has at least `bytes` available to this user.
void check_free_space(const std::filesystem::path& dir, std::uintmax_t bytes, const std::string& what);

/// Removes what write_file_atomic's temporaries look like ("<stem>.tmp<pid><ext>") in
/// `run_dir`, its checkpoints/ and its artefacts/: the leftovers of writes that failed or were
/// killed. Call with the run's lock held. Returns how many were removed.
int remove_stale_temporaries(const std::filesystem::path& run_dir);

/// Checks a checkpoint's ZIP container (what torch::serialize writes: stored entries, zip64
/// directory) before LibTorch reads it: every entry inside the file, stored, and matching the
/// CRC-32 the directory records for it. LibTorch 1.13 checks none of that, and its TorchScript
/// reader crashes (SIGSEGV) on a damaged code entry (found by fuzz_checkpoint). Returns "" when
/// the container is whole, else what is wrong (one line).
std::string check_zip_container(const std::string& bytes);

/// The checksum file beside checkpoint `path`: "<path>.sum", {"bytes": n, "crc32c": c}.
std::string checksum_path(const std::string& checkpoint_path);
/// The record written to checksum_path() for these bytes.
nlohmann::json checksum_record(const std::string& bytes);
/// "" when `bytes` match the record at checksum_path(path), else what differs. A checkpoint
/// without a record (written before records existed) passes with `*unverified` set.
std::string verify_checksum(const std::string& path, const std::string& bytes, bool* unverified = nullptr);

/// The training options a resume may change (--set training.NAME=...): they change neither
/// the data nor the arithmetic, except `threads`, whose change resume announces.
const std::vector<std::string>& resumable_training_options();

/// What a checkpoint records of the pipeline it belongs to: the resolved config less what may
/// change on resume (resumable_training_options()) or that training never reads (name,
/// description, evaluators, tensorboard), and the distributed section (world size and backend
/// change only how a batch is split).
nlohmann::json run_identity(const nlohmann::json& config);
/// "" when the two identities agree, else one line naming the first difference: its JSON
/// pointer and both values.
std::string first_difference(const nlohmann::json& checkpoint, const nlohmann::json& pipeline);

/// Throws Error(what, ...) naming the first tensor of `module` (parameters and buffers, by
/// dotted name) that `archive` (written by Module::save) lacks or holds with another shape or
/// dtype. Module::load would otherwise replace the tensor, shape and all, without a word.
void check_module_archive(torch::nn::Module& module, torch::serialize::InputArchive& archive, const std::string& what);

}  // namespace priorlab::host
