// JSON pipelines: loading (with file:line:column errors), --set overrides, validation against
// every plugin's declared options, and construction of the components.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "pipeline/registry.hpp"
#include "priorlab/dataset.hpp"
#include "priorlab/evaluator.hpp"
#include "priorlab/network.hpp"
#include "priorlab/objective.hpp"
#include "priorlab/options.hpp"
#include "priorlab/prior.hpp"
#include "priorlab/scheduler.hpp"

namespace priorlab::host {

using nlohmann::json;

/// The deepest nesting a pipeline, sweep file or --set value may have. Pipelines nest about 6
/// deep; the bound keeps every recursive walk of a parsed value (merging, provenance, dumping)
/// far from the end of the stack (100,000 levels segfaulted validate and run).
constexpr int kMaxJsonDepth = 64;

/// Parses JSON text read from `source` (a file path, or "--set ..."). Nesting beyond
/// kMaxJsonDepth, a syntax error, and a number no double holds (1e999, 5,000 digits) are each
/// an Error at "source:line:column".
json parse_json(const std::string& text, const std::string& source);

/// The most intra-op threads a run or evaluation may ask for: four per core of this machine.
/// Beyond that a thread pool only adds contention (100,000 hung `run`, spawning threads).
int max_threads();

/// One located line for any exception: a filesystem_error becomes "PATH: what failed: why"
/// (not "filesystem error: ... [PATH]"), a c10::Error loses its backtrace, the rest one_line().
std::string explain(const std::exception& e);

/// Parses a JSON file with parse_json; the path must name a regular file.
json load_json_file(const std::string& path);

/// Where each value of a pipeline assembled from several places came from: an "extends" chain of
/// files, then --set overrides or a sweep's values. Keys are JSON pointers ("/training/seed").
class Provenance {
 public:
  /// `value` at `pointer`, and everything inside it, was set by `origin` (a file, "--set ...").
  void set(const std::string& pointer, const json& value, const std::string& origin);
  /// The value at `pointer` is gone, with everything inside it.
  void erase(const std::string& pointer);
  /// Who set the value at `pointer`, or its nearest enclosing value that is recorded ("" if none).
  std::string origin(const std::string& pointer) const;

 private:
  std::map<std::string, std::string> by_pointer_;
};

/// A JSON pointer component with '~' and '/' escaped (RFC 6901).
std::string pointer_escape(const std::string& key);

/// Merges `over` into `base` as "extends" does: objects merge key by key, arrays and scalars
/// replace, and null removes the key. Records what `over` set as set by `origin`.
void merge_json(json& base, const json& over, const std::string& origin, Provenance* provenance = nullptr,
                const std::string& pointer = "");

/// Parses a pipeline file and follows its "extends": "path.json" chain (each path relative to
/// the file that names it), merging each file over the one it extends. The result has no
/// "extends" key. A missing file, a cycle or a malformed "extends" is an Error located at the
/// file and key that named it. `provenance`, when given, learns which file set each value.
json load_pipeline_file(const std::string& path, Provenance* provenance = nullptr);

/// A pipeline given as a value (the Python module's run(dict)) rather than read from a file:
/// its "extends", when relative, names a file relative to the working directory. `source`
/// names the value in errors and provenance ("<pipeline>").
json load_pipeline_value(json raw, const std::string& source, Provenance* provenance = nullptr);

/// Applies "a.b.c=value" (value parsed as JSON, else taken as a string; numeric components
/// index arrays). Throws Error("--set a.b.c=...", why) for a malformed override.
void apply_override(json& config, const std::string& assignment, Provenance* provenance = nullptr);

/// The components of an option path: a JSON pointer ("/prior", "/evaluators/0/options/limit")
/// or the dotted form of --set ("training.seed"). Throws Error(where, ...) for an empty component.
std::vector<std::string> split_option_path(const std::string& path, const std::string& where);

/// The JSON pointer of an option path in either form ("training.seed" -> "/training/seed").
std::string option_pointer(const std::string& path, const std::string& where);

/// Sets the value at `path` (either form above), creating missing objects; a numeric component
/// indexes an existing list. What --set and sweep axes use. Throws Error(where, ...).
void set_option_path(json& config, const std::string& path, const json& value, const std::string& where);

/// The host's own sections, declared like a plugin's options.
OptionSet training_options();  ///< "/training"
OptionSet distributed_options();  ///< "/distributed": backend, timeout_s (docs/distributed.md)
OptionSet run_options();       ///< top-level scalars: name, seed, device, data_root

/// Flush-to-zero and denormals-are-zero (training.flush_denormal) on this thread and on every
/// intra-op worker thread: subnormal floats count as 0, so GEMMs on them keep their speed.
void set_flush_denormal(bool on);

/// Validates a raw pipeline and returns it with every default filled in ("resolved"). `source`
/// names the file in errors; `default_name` names the run when the pipeline does not. With a
/// `provenance`, an error in a value that another file (or an override) set names that origin
/// too: "row.json (value from base.json): /training/iterations: ...".
json resolve_pipeline(const Registry& registry, const json& raw, const std::string& source,
                      const std::string& default_name, const Provenance* provenance = nullptr);

/// "auto" -> CUDA when available, else CPU; "cpu"; "cuda" / "cuda:N".
torch::Device select_device(const std::string& spec);

/// "float32" -> kFloat, "float64" -> kDouble (the pipeline's "dtype").
torch::Dtype select_dtype(const std::string& spec);

struct NamedEvaluator {
  std::string name;
  std::shared_ptr<Evaluator> evaluator;
};

/// The constructed components of a resolved pipeline.
struct Pipeline {
  json config;  ///< resolved
  std::string name;
  torch::Device device{torch::kCPU};
  torch::Dtype dtype = torch::kFloat;  ///< "dtype": every module's parameters and the batches fed to them
  std::uint64_t seed = 0;
  std::shared_ptr<Dataset> dataset;
  DataInfo data;
  std::shared_ptr<Network> network;
  std::shared_ptr<Prior> prior;
  std::shared_ptr<Objective> objective;
  std::shared_ptr<Scheduler> scheduler;
  std::vector<NamedEvaluator> evaluators;
  std::int64_t steps_per_epoch = 1;
};

/// Constructs every component of a resolved pipeline, in order dataset, network, prior,
/// objective, scheduler, evaluators; parameters are initialised from the pipeline's seed.
/// With `data_only`, stops after the dataset and the checks that need it (batch size against
/// the training split): what `validate` runs, building no model.
Pipeline build_pipeline(const Registry& registry, const json& resolved, bool data_only = false);

/// Refuses a run name that is not one safe path component: empty, ".", "..", a '/' or '\\',
/// a control character (NUL included), a leading '.', or more than 128 bytes.
void check_run_name(const std::string& name, const std::string& where);

/// The JSON in file `path`, or null when it is missing, unreadable or not (yet) whole JSON: run
/// files that a run still going may be rewriting count as absent.
nlohmann::json read_json_or_null(const std::filesystem::path& path);

/// The current UTC time as "YYYY-MM-DDTHH:MM:SSZ", for run and sweep status files.
std::string now_iso();

}  // namespace priorlab::host
