// Shared test helpers: the plugin registry of the build tree, plugin construction from JSON
// options, and running the CLI.
#pragma once

#include <algorithm>
#include <array>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "experiments/sweep.hpp"
#include "pipeline/pipeline.hpp"
#include "pipeline/registry.hpp"
#include "plugin_registry.hpp"

namespace priorlab::test {

using nlohmann::json;

/// The plugins built in this tree (loaded once per test binary).
/// Creates plugin `name` of interface T with `options` validated against its declaration;
/// `ctx` supplies the rest (data info, latent_dim, ...).
template <class T>
std::shared_ptr<T> make(const std::string& name, const json& options = json::object(), BuildContext ctx = {}) {
  const auto& entry = registry().find(name, T::kind, "/test");
  ctx.name = name;
  ctx.path = "/test";
  ctx.options = Options(entry.options.resolve(options, "/test/options"), "/test/options");
  return registry().create<T>(ctx);
}

/// A fresh empty folder under the build's temp area, removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = std::filesystem::temp_directory_path() /
            ("priorlab_" + std::string(info->test_suite_name()) + "_" + info->name() + "_" + std::to_string(::getpid()) + "_" +
             std::to_string(counter()++));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::filesystem::path& path() const { return path_; }
  std::string str() const { return path_.string(); }

 private:
  static int& counter() {
    static int n = 0;
    return n;
  }
  std::filesystem::path path_;
};

struct CommandResult {
  int exit_code;
  std::string output;  ///< stdout and stderr together
};

/// Runs shell command `cmd` (stdout and stderr together) and waits for it.
inline CommandResult run_command(const std::string& cmd) {
  CommandResult r{-1, {}};
  FILE* pipe = ::popen(cmd.c_str(), "r");
  if (!pipe) return r;
  std::array<char, 4096> buf{};
  while (size_t n = std::fread(buf.data(), 1, buf.size(), pipe)) r.output.append(buf.data(), n);
  const int status = ::pclose(pipe);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

/// Runs the priorlab CLI with `args` (a shell-quoted string) in `cwd`.
inline CommandResult run_cli(const std::string& args, const std::string& cwd = ".") {
  return run_command("cd '" + cwd + "' && '" PRIORLAB_EXE "' " + args + " 2>&1");
}

/// Runs `script` with bash in `cwd` (for what the CLI alone cannot set up: ulimit, traps,
/// processes started together). The script must not contain single quotes.
inline CommandResult run_bash(const std::string& script, const std::string& cwd) {
  return run_command("cd '" + cwd + "' && bash -c '" + script + "' 2>&1");
}

/// Writes a file (creating folders).
inline void write_text(const std::filesystem::path& p, const std::string& text) {
  std::filesystem::create_directories(p.parent_path());
  std::FILE* f = std::fopen(p.c_str(), "wb");
  std::fwrite(text.data(), 1, text.size(), f);
  std::fclose(f);
}

/// Writes `config` into dir/name and returns its path.
inline std::string write_config(const TempDir& dir, const json& config, const std::string& name = "p.json") {
  const auto path = dir.path() / name;
  write_text(path, config.dump(2));
  return path.string();
}

/// Every tensor of a checkpoint's network sub-archive, by dotted name.
inline std::map<std::string, torch::Tensor> checkpoint_network_tensors(const std::filesystem::path& file) {
  torch::serialize::InputArchive archive, network;
  archive.load_from(file.string());
  archive.read("network", network);
  std::map<std::string, torch::Tensor> out;
  std::function<void(torch::serialize::InputArchive&, const std::string&)> collect =
      [&](torch::serialize::InputArchive& a, const std::string& prefix) {
        for (const auto& key : a.keys()) {
          torch::Tensor t;
          torch::serialize::InputArchive sub;
          if (a.try_read(key, t)) out[prefix + key] = t;
          else if (a.try_read(key, sub)) collect(sub, prefix + key + ".");
        }
      };
  collect(network, "");
  return out;
}

/// Every pipeline shipped in configs/, files in sorted order, each named by where it came from:
/// each plain config, and each run of each sweep file (a JSON object with a "base"; one that
/// plans no run is a test failure). `seed_zero_only` keeps a sweep's seed-0 runs alone (its
/// seeds change no code path). Each file's "extends" chain is followed; a base.json (the part an
/// experiment's rows share, not a pipeline of its own) comes in through the rows extending it.
inline std::vector<std::pair<std::string, json>> shipped_pipelines(bool seed_zero_only = false) {
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::recursive_directory_iterator(PRIORLAB_SOURCE_DIR "/configs"))
    if (e.path().extension() == ".json" && e.path().filename() != "base.json") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  std::vector<std::pair<std::string, json>> out;
  for (const auto& f : files) {
    const json j = host::load_pipeline_file(f.string());
    if (!(j.is_object() && j.contains("base"))) {
      out.emplace_back(f.string(), j);
      continue;
    }
    const host::SweepPlan plan = host::load_sweep(f.string());
    if (plan.runs.empty()) ADD_FAILURE() << f << " plans no run";
    for (const auto& run : plan.runs)
      if (!seed_zero_only || run.pipeline.value("seed", 0) == 0) out.emplace_back(f.string() + ": run " + run.name, run.pipeline);
  }
  return out;
}

/// A file's bytes ("" when it cannot be read).
inline std::string read_text(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

/// The pictures a test expects an evaluator to list: all of them with OpenCV, none in a build
/// without it (PRIORLAB_WITH_OPENCV=OFF writes no pictures).
inline std::vector<std::string> pictures(std::vector<std::string> files) {
  return PRIORLAB_WITH_OPENCV ? files : std::vector<std::string>{};
}

/// A picture file exists when the build draws pictures, and does not otherwise.
inline void expect_picture(const std::filesystem::path& file) {
  EXPECT_EQ(std::filesystem::exists(file), bool(PRIORLAB_WITH_OPENCV)) << file;
}

/// The device the pipeline-level tests run on: PRIORLAB_TEST_DEVICE ("cpu" when unset; "cuda",
/// "cuda:1"). Plugin unit tests build their modules and inputs on the CPU.
inline std::string device() {
  const char* d = std::getenv("PRIORLAB_TEST_DEVICE");
  return d && *d ? d : "cpu";
}

/// The floating-point type of a module's first floating parameter or buffer (float when none).
inline torch::Dtype module_dtype(torch::nn::Module* module) {
  if (module) {
    for (const auto& t : module->parameters())
      if (t.is_floating_point()) return t.scalar_type();
    for (const auto& t : module->buffers())
      if (t.is_floating_point()) return t.scalar_type();
  }
  return torch::kFloat;
}

/// An evaluation context over hand-built components, in the network's dtype (hand-built test
/// models are often double, for exact comparisons); progress is ignored.
inline EvalContext eval_context(Network* network, Prior* prior, const Dataset* dataset,
                                const std::string& artefact_dir = {}) {
  EvalContext ctx;
  ctx.dtype = module_dtype(network);
  ctx.network = network;
  ctx.prior = prior;
  ctx.dataset = dataset;
  ctx.artefact_dir = artefact_dir;
  ctx.progress = [](double, const std::string&) {};
  return ctx;
}

/// One step's scheduler input with the given constraint measures (steps count up per process).
inline SchedulerInput input(double nll, double squared_error = 0.0) {
  static std::int64_t step = 0;
  SchedulerInput in;
  in.step = step++;
  in.nll_per_dim = nll;
  in.squared_error_per_dim = squared_error;
  return in;
}

/// got == want up to the round-off of a few exp/tanh evaluations (relative 1e-13).
inline void expect_rel(double got, double want) { EXPECT_NEAR(got, want, 1e-13 * std::abs(want)) << "want " << want; }

/// A small, fast pendulum pipeline for tests (a few hundred images, a small MLP).
inline json small_pipeline(std::int64_t iterations = 200) {
  json j = json::parse(R"({
    "name": "small",
    "seed": 3,
    "device": "cpu",
    "dataset": {"plugin": "pendulum", "options": {"size": 400, "test_fraction": 0.25}},
    "network": {"plugin": "mlp", "options": {"latent_dim": 2, "hidden": [128], "decoder_sigma": 0.1}},
    "prior": {"plugin": "gaussian"},
    "scheduler": {"plugin": "warmup", "options": {"epochs": 2}},
    "training": {"iterations": 200, "batch_size": 32, "learning_rate": 1e-3, "log_every": 20, "checkpoint_every": 50},
    "evaluators": [{"plugin": "reconstruction", "options": {"pictures": 8}}]
  })");
  j["training"]["iterations"] = iterations;
  j["device"] = device();
  return j;
}

/// The records of a metrics.jsonl file, in order.
inline std::vector<json> read_metrics(const std::filesystem::path& file) {
  std::vector<json> lines;
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line)) lines.push_back(json::parse(line));
  return lines;
}

/// Every parameter of a pipeline's network and prior, by name ("network.encoder.0.weight"),
/// copied.
inline std::map<std::string, torch::Tensor> parameters_of(host::Pipeline& p) {
  std::map<std::string, torch::Tensor> out;
  for (const auto& kv : p.network->named_parameters()) out["network." + kv.key()] = kv.value().detach().clone();
  for (const auto& kv : p.prior->named_parameters()) out["prior." + kv.key()] = kv.value().detach().clone();
  return out;
}

/// A module's parameters by name ("encoder.0.weight" -> tensor).
inline std::map<std::string, torch::Tensor> named_params(torch::nn::Module& module) {
  std::map<std::string, torch::Tensor> m;
  for (const auto& item : module.named_parameters()) m[item.key()] = item.value();
  return m;
}

/// The number of values in a module's parameters.
inline std::int64_t parameter_count(torch::nn::Module& module) {
  std::int64_t n = 0;
  for (const auto& p : module.parameters()) n += p.numel();
  return n;
}

/// The place (Error::where()) of the priorlab::Error that f() throws, or "none".
template <class F>
std::string error_place(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.where();
  }
  return "none";
}

}  // namespace priorlab::test
