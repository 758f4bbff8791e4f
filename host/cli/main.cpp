// priorlab: train and evaluate VAE priors from JSON pipelines of plugins.
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <iostream>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "engine/distributed.hpp"
#include "engine/malloc_tuning.hpp"
#include "experiments/evaluate.hpp"
#include "experiments/sweep.hpp"
#include "pipeline/pipeline.hpp"
#include "pipeline/registry.hpp"
#include "results/compare.hpp"
#include "results/report.hpp"
#include "run/run.hpp"

namespace {
std::atomic<bool> g_stop{false};
extern "C" void on_signal(int) {
  if (g_stop.exchange(true)) std::_Exit(priorlab::host::kInterrupted);  // second Ctrl-C: leave now
}

using namespace priorlab::host;

// resume's values: the run directory and its --set overrides.
struct ResumeArgs {
  std::string run_dir;
  std::vector<std::string> overrides;
};

// validate's values: the pipeline file and its --set overrides.
struct ValidateArgs {
  std::string path;
  std::vector<std::string> overrides;
};

// compare's values: the folder, --metrics and --paired.
struct CompareArgs {
  std::string dir;
  std::vector<std::string> metrics;
  std::string paired_ref;
};

// evaluate's values: the request, and --checkpoint (-1: the newest).
struct EvaluateArgs {
  EvaluateRequest request;
  std::int64_t checkpoint = -1;
};

// Every value the command line can fill in (CLI11 binds each option to one of them).
struct Values {
  std::vector<std::string> plugin_paths;
  int nproc = 1;  // run, resume and evaluate
  RunRequest run;
  ResumeArgs resume;
  ValidateArgs validate;
  bool brief = false;  // plugins
  std::string describe_name;
  SweepRequest sweep;
  CompareArgs compare;
  EvaluateArgs evaluate;
  std::string report_dir;
};

// The subcommands, to ask which one the command line named.
struct Subcommands {
  CLI::App *run, *resume, *validate, *plugins, *describe, *sweep, *compare, *evaluate, *report;
};

// run: a pipeline file, its overrides, where the run directory goes and its name.
CLI::App* add_run(CLI::App& app, RunRequest& req) {
  auto* run = app.add_subcommand("run", "train a pipeline, then run its evaluators");
  run->add_option("config", req.config_path, "pipeline JSON file")->required();
  run->add_option("--set", req.overrides, "override a value: a.b.c=VALUE (repeatable)")->allow_extra_args(false);
  run->add_option("--out", req.out_dir, "folder for run directories")->capture_default_str();
  run->add_option("--name", req.name, "run name (default: the pipeline's name)");
  run->add_flag("--force", req.force, "replace an existing run directory of the same name");
  return run;
}

// resume: a run directory and the training.* values that may change.
CLI::App* add_resume(CLI::App& app, ResumeArgs& args) {
  auto* resume = app.add_subcommand("resume", "continue a stopped run from its newest checkpoint");
  resume->add_option("run_dir", args.run_dir, "the run directory")->required();
  resume->add_option("--set", args.overrides, "override training.* values, e.g. training.iterations=50000")->allow_extra_args(false);
  return resume;
}

// validate: a pipeline file and its overrides.
CLI::App* add_validate(CLI::App& app, ValidateArgs& args) {
  auto* validate = app.add_subcommand("validate", "check a pipeline and print it with every default filled in");
  validate->add_option("config", args.path, "pipeline JSON file")->required();
  validate->add_option("--set", args.overrides, "override a value: a.b.c=VALUE (repeatable)")->allow_extra_args(false);
  return validate;
}

// sweep: a sweep file and what to run of it, where, and how.
CLI::App* add_sweep(CLI::App& app, SweepRequest& req) {
  auto* sweep = app.add_subcommand("sweep", "run a base pipeline over axes of option values and seeds, then compare");
  sweep->add_option("sweep_file", req.path, "sweep JSON file")->required();
  sweep->add_option("--out", req.out_dir, "the sweep's folder (default: runs/<sweep name>)");
  sweep->add_option("--jobs,-j", req.jobs, "runs at a time, each with cores/N intra-op threads")->capture_default_str();
  sweep->add_option("--set", req.overrides, "override a value in every run: a.b.c=VALUE (repeatable)")->allow_extra_args(false);
  sweep->add_option("--only", req.only, "run only these values of an axis: AXIS=NAME[,NAME] (repeatable)")->allow_extra_args(false);
  sweep->add_option("--seeds", req.seeds, "replace the sweep's seeds: 0,1,2");
  sweep->add_option("--metrics", req.metrics, "metrics of the comparison table: a,b (default: the sweep's)")->delimiter(',');
  sweep->add_flag("--force", req.force, "run again, from the start, runs whose folder holds a different pipeline");
  sweep->add_flag("--dry-run", req.dry_run, "validate every run and list what would happen; start and write nothing");
  sweep->add_option("--emit", req.emit,
                    "slurm: write a job-array script (one task per run) and its comparison, run nothing (docs/distributed.md)");
  sweep->add_option("--run", req.run, "run one run of the sweep, by name, in this process (what an array task does)");
  return sweep;
}

// compare: a folder of runs, the metrics to show and the row to pair against.
CLI::App* add_compare(CLI::App& app, CompareArgs& args) {
  auto* compare = app.add_subcommand("compare", "tabulate the summaries of the runs under a folder (mean ± std over seeds)");
  compare->add_option("dir", args.dir, "a folder of runs (searched recursively)")->required();
  compare->add_option("--metrics", args.metrics, "metrics to show: a,b (names or suffixes; 'all')")->delimiter(',');
  compare->add_option("--paired", args.paired_ref,
                      "also table each row's per-image log p(x) difference to this row (loglik_per_example.csv)");
  return compare;
}

// evaluate: a run directory or a sweep, the checkpoint and evaluators, and how to share the work.
CLI::App* add_evaluate(CLI::App& app, EvaluateArgs& args, int& nproc) {
  auto* evaluate = app.add_subcommand("evaluate", "run a finished run's evaluators again, or new ones, on a checkpoint; merge into summary.json");
  evaluate->add_option("dir", args.request.dir, "a run directory or a folder of runs (a sweep)")->required();
  evaluate->add_option("--checkpoint", args.checkpoint, "the step of the checkpoint to evaluate (default: the newest)");
  evaluate->add_option("--evaluator", args.request.evaluators,
                       "an evaluator section as JSON, e.g. '{\"plugin\": \"loglik\"}' (repeatable; default: the run's own)")
      ->allow_extra_args(false);
  evaluate->add_option("--jobs,-j", args.request.jobs, "runs evaluated at a time, each with cores/N threads")->capture_default_str();
  evaluate->add_option("--threads", args.request.threads, "intra-op threads (default: the run's training.threads)");
  evaluate->add_option("--nproc", nproc, "data-parallel evaluation of one run on this machine: N processes over Gloo")
      ->check(CLI::Range(1, 1024));
  return evaluate;
}

// Every subcommand, in the order --help lists them.
Subcommands add_subcommands(CLI::App& app, Values& v) {
  Subcommands s;
  s.run = add_run(app, v.run);
  s.resume = add_resume(app, v.resume);
  for (auto* sub : {s.run, s.resume})
    sub->add_option("--nproc", v.nproc, "data-parallel on this machine: N processes over Gloo (docs/distributed.md)")
        ->check(CLI::Range(1, 1024));
  s.validate = add_validate(app, v.validate);
  s.plugins = app.add_subcommand("plugins", "list the plugins found, with their options");
  s.plugins->add_flag("--brief", v.brief, "names and summaries only");
  s.describe = app.add_subcommand("describe", "print a plugin's options and a pipeline section using it");
  s.describe->add_option("name", v.describe_name, "plugin name")->required();
  s.sweep = add_sweep(app, v.sweep);
  s.compare = add_compare(app, v.compare);
  s.evaluate = add_evaluate(app, v.evaluate, v.nproc);
  s.report = app.add_subcommand("report", "write report.html for a run directory, or for a folder of runs and each run in it");
  s.report->add_option("dir", v.report_dir, "a run directory or a folder of runs")->required();
  return s;
}

// --nproc N: this command again N times, less --nproc, as the ranks of one group.
int launch_local_ranks(int nproc, int argc, char** argv) {
  // The ranks are this command again, less --nproc, under torchrun's variables.
  if (launch_from_environment())
    throw priorlab::Error("--nproc", "this process was itself started as a rank (RANK/WORLD_SIZE or Slurm's "
                                     "variables are set): leave --nproc to the launcher");
  std::vector<std::string> args;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--nproc") {
      ++i;
      continue;
    }
    if (a.rfind("--nproc=", 0) == 0) continue;
    args.push_back(a);
  }
  return run_local_ranks(nproc, args);
}

// sweep: one process that starts its runs (or, with --run, one run of it).
int start_sweep(const Registry& registry, Values& v) {
  // Every rank would run the whole sweep, and its runs would each try to join the group.
  if (const auto l = launch_from_environment(); l && l->world > 1 && v.sweep.run.empty())
    throw priorlab::Error("sweep", fmt::format("started as rank {} of {} ({} variables): a sweep is one process "
                                               "that starts its runs; on a cluster use `priorlab sweep {} --emit "
                                               "slurm` (docs/distributed.md)",
                                               l->rank, l->world, l->source, v.sweep.path));
  v.sweep.plugin_paths = v.plugin_paths;
  return run_sweep(registry, v.sweep, &g_stop);
}

// Finds the plugins, then does what the named subcommand asks; returns the exit code.
int dispatch(const Subcommands& s, Values& v, int argc, char** argv) {
  Registry registry;
  for (const auto& w : check_plugin_dirs(v.plugin_paths)) std::cerr << "priorlab: warning: " << w << std::endl;
  registry.discover(plugin_search_path(v.plugin_paths));
  if (*s.plugins) {
    std::cout << format_plugins(registry, !v.brief);
    return kOk;
  }
  if (*s.describe) {
    std::cout << format_describe(registry, v.describe_name);
    return kOk;
  }
  if (*s.validate) {
    // Every check `run` makes short of building the model: the dataset is read, so a batch
    // larger than the training split is refused here too.
    const auto config = load_pipeline(registry, v.validate.path, v.validate.overrides);
    build_pipeline(registry, config, /*data_only=*/true);
    std::cout << config.dump(2) << std::endl;
    return kOk;
  }
  if (*s.compare) {
    compare_command(v.compare.dir, v.compare.metrics, v.compare.paired_ref, &registry);
    return kOk;
  }
  if (*s.report) return write_reports(v.report_dir, &registry);
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  if ((*s.run || *s.resume || *s.evaluate) && v.nproc > 1) return launch_local_ranks(v.nproc, argc, argv);
  if (*s.evaluate) {
    if (v.evaluate.checkpoint >= 0) v.evaluate.request.checkpoint = v.evaluate.checkpoint;
    v.evaluate.request.plugin_paths = v.plugin_paths;
    return evaluate_runs(registry, v.evaluate.request, &g_stop);
  }
  if (*s.sweep) return start_sweep(registry, v);
  if (*s.run) return run_pipeline(registry, v.run, &g_stop);
  if (*s.resume) return resume_run(registry, v.resume.run_dir, v.resume.overrides, &g_stop);
  return kOk;
}

}  // namespace

int main(int argc, char** argv) {
  tune_malloc();
  CLI::App app{"priorlab: learning hierarchical priors in VAEs (VHP, REWO and baselines) from JSON pipelines"};
  app.require_subcommand(1);
  app.fallthrough();  // global options (--plugin-path) may also follow the subcommand
  Values v;
  // Each repeatable option takes one value per use: `run --plugin-path DIR config.json` leaves
  // config.json to the subcommand (CLI11 lets a vector option swallow what follows otherwise).
  app.add_option("--plugin-path", v.plugin_paths, "extra folder with plugin libraries (repeatable; searched first)")
      ->allow_extra_args(false);
  const Subcommands s = add_subcommands(app, v);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version exit 0; every usage error exits 2, like any other bad input.
    return app.exit(e) == 0 ? kOk : kBadInput;
  }

  try {
    return dispatch(s, v, argc, argv);
  } catch (const priorlab::Error& e) {
    std::cerr << "priorlab: error: " << e.what() << std::endl;
    return kBadInput;
  } catch (const std::exception& e) {
    std::cerr << "priorlab: error: " << explain(e) << std::endl;  // located: a file system error names its path
    return kFailed;
  }
}
