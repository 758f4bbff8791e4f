// The commands behind the CLI: run, resume, validate, plugins, describe.
#pragma once

#include <atomic>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/distributed.hpp"
#include "engine/process.hpp"  // ExitCode, self_executable()
#include "pipeline/pipeline.hpp"
#include "pipeline/registry.hpp"

namespace priorlab::host {

struct RunRequest {
  std::string config_path;
  /// A pipeline given as a value instead of a file (the Python module's run(dict)); used when
  /// not null, and named `config_source` in errors. A relative "extends" in it names a file
  /// relative to the working directory; without "name", the run is called "pipeline".
  nlohmann::json config;
  std::string config_source = "<pipeline>";
  std::vector<std::string> overrides;
  std::string out_dir = "runs";
  std::string name;  ///< overrides the pipeline's name
  bool force = false;
};

/// How a run folder's JSON files (run.json, summary.json, config.json) are written: indented,
/// one newline at the end, and invalid UTF-8 (an error message quoting a file name that is not
/// UTF-8) as U+FFFD rather than an exception in the middle of recording a failure.
std::string dump_json(const nlohmann::json& j);

/// Loads, overrides and resolves a pipeline file (errors name the file and JSON path).
nlohmann::json load_pipeline(const Registry& registry, const std::string& path, const std::vector<std::string>& overrides);

/// The same for a pipeline given as a value (RunRequest::config).
nlohmann::json load_pipeline(const Registry& registry, const nlohmann::json& raw, const std::string& source,
                             const std::vector<std::string>& overrides);
/// Trains and evaluates a pipeline into out_dir/<name>. Returns an ExitCode. When run_dir is
/// given, it is set to that folder as soon as the pipeline is resolved (before anything is
/// built or written), so a caller can read run.json after a failed run without resolving the
/// pipeline a second time.
int run_pipeline(const Registry& registry, const RunRequest& request, const std::atomic<bool>* stop,
                 std::string* run_dir = nullptr);

/// Continues the run in `run_dir` from its newest checkpoint (then evaluates). `overrides`
/// may change training.* (e.g. more iterations).
int resume_run(const Registry& registry, const std::string& run_dir, const std::vector<std::string>& overrides,
               const std::atomic<bool>* stop);

/// The process group of a data-parallel launch (docs/distributed.md), or null for one process
/// (no launch, or a world of 1). On CUDA, rank r moves the model to cuda:LOCAL_RANK first.
std::unique_ptr<ProcessGroup> join_launch(Pipeline& p, const std::optional<Launch>& launch);

/// Runs every evaluator of a built pipeline on its (trained) model, pictures into
/// dir/artefacts; returns the summary's "evaluators" object. A failing evaluator is reported and
/// added to `errors`, and the others still run; `artefacts` collects the files written.
/// With a process group every rank calls this: each evaluator runs on every rank (those that
/// shard split their work, EvalContext::world), rank 0 alone writes pictures and prints, and
/// the ranks agree before each evaluator whether to stop. After an error the ranks' collectives
/// may no longer pair up, so a data-parallel evaluation ends there: a rank other than 0 throws,
/// rank 0 lists the evaluators left out among `errors`.
nlohmann::json evaluate_pipeline(Pipeline& p, const std::filesystem::path& dir, std::vector<std::string>& errors,
                                 std::vector<std::string>& artefacts, const std::atomic<bool>* stop = nullptr,
                                 ProcessGroup* group = nullptr);

/// One evaluator's metrics on one terminal line: "  name value" each, with per-dimension keys
/// ("activity_0" ... "activity_31", three or more of one stem) shown as one entry with their
/// count, min and max.
std::string abbreviate_metrics(const nlohmann::json& metrics);

/// The end of a run or an evaluation on the terminal: each evaluator's line, the pictures, the
/// summary's path; rewrites report.html (a failure to is said, never fatal).
void print_evaluations(const nlohmann::json& evaluators, const std::vector<std::string>& artefacts,
                       const std::filesystem::path& dir);

/// Human-readable listings.
std::string format_plugins(const Registry& registry, bool with_options);
std::string format_describe(const Registry& registry, const std::string& name);

}  // namespace priorlab::host
