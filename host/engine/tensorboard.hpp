// TensorBoard event files: a run's curves, evaluator metrics and pictures in the format that
// TensorBoard (and every tool reading its files) follows while the run is going. Records are
// TFRecord framed: uint64 length, masked CRC-32C of the length, the serialized tensorflow.Event,
// masked CRC-32C of the data (host/proto/tensorboard_event.proto holds the schema).
#pragma once

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace priorlab::host {

/// CRC-32C (Castagnoli) of `size` bytes, masked as TFRecord framing masks it:
/// ((crc >> 15) | (crc << 17)) + 0xa282ead8.
std::uint32_t masked_crc32c(const void* data, size_t size);

/// Whether this build writes event files (PRIORLAB_WITH_TENSORBOARD, which needs protobuf).
bool tensorboard_enabled();

class EventWriter {
 public:
  /// Opens the run's event file, RUN/tensorboard/events.out.tfevents.<seconds>.<host>, creating
  /// it (with its file_version record) when the run has none. A resumed run keeps its file: the
  /// records of steps after `keep_through_step` (those its checkpoint does not cover, and a torn
  /// last record) are dropped first, by an atomic rewrite, so nothing is logged twice. -1 keeps
  /// every whole record. Returns null when this build has no TensorBoard support.
  static std::unique_ptr<EventWriter> open(const std::filesystem::path& run_dir, std::int64_t keep_through_step = -1);
  ~EventWriter();
  EventWriter(const EventWriter&) = delete;
  EventWriter& operator=(const EventWriter&) = delete;

  /// One record of scalar summaries at `step` (tag, value), written and flushed.
  void scalars(std::int64_t step, const std::vector<std::pair<std::string, double>>& values);
  /// One record with a PNG image summary at `step`; false (nothing written) when `png` is not a PNG.
  bool image(std::int64_t step, const std::string& tag, const std::string& png);
  const std::filesystem::path& path() const { return path_; }

 private:
  EventWriter(std::filesystem::path path, std::FILE* file);
  void write_record(const std::string& data);
  std::filesystem::path path_;
  std::FILE* file_ = nullptr;
};

/// The scalars of a metrics.jsonl record under "train/": every number, booleans as 0/1, and a
/// string value v of key k as "train/k=v" = 1 (the phase). "step" itself is left out.
std::vector<std::pair<std::string, double>> train_scalars(const nlohmann::json& record);

/// A finished evaluation into the run's event file at `step`: every evaluator metric as
/// "eval/<evaluator>/<metric>", every PNG in `artefacts` (paths relative to run_dir) as an
/// image "eval/<file without .png>". Does nothing in a build without TensorBoard support or when
/// `enabled` is false; an error is said on stderr, never fatal.
void write_evaluation_events(const std::filesystem::path& run_dir, bool enabled, std::int64_t step,
                             const nlohmann::json& evaluators, const std::vector<std::string>& artefacts);

}  // namespace priorlab::host
