// priorlab: train and evaluate VAE priors from JSON pipelines of plugins.
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <iostream>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "compare.hpp"
#include "distributed.hpp"
#include "evaluate.hpp"
#include "malloc_tuning.hpp"
#include "pipeline.hpp"
#include "registry.hpp"
#include "report.hpp"
#include "run.hpp"
#include "sweep.hpp"

namespace {
std::atomic<bool> g_stop{false};
extern "C" void on_signal(int) {
  if (g_stop.exchange(true)) std::_Exit(priorlab::host::kInterrupted);  // second Ctrl-C: leave now
}

}  // namespace

int main(int argc, char** argv) {
  using namespace priorlab::host;
  tune_malloc();
  CLI::App app{"priorlab: learning hierarchical priors in VAEs (VHP, REWO and baselines) from JSON pipelines"};
  app.require_subcommand(1);
  app.fallthrough();  // global options (--plugin-path) may also follow the subcommand
  std::vector<std::string> plugin_paths;
  // Each repeatable option takes one value per use: `run --plugin-path DIR config.json` leaves
  // config.json to the subcommand (CLI11 lets a vector option swallow what follows otherwise).
  app.add_option("--plugin-path", plugin_paths, "extra folder with plugin libraries (repeatable; searched first)")
      ->allow_extra_args(false);

  RunRequest req;
  auto* run = app.add_subcommand("run", "train a pipeline, then run its evaluators");
  run->add_option("config", req.config_path, "pipeline JSON file")->required();
  run->add_option("--set", req.overrides, "override a value: a.b.c=VALUE (repeatable)")->allow_extra_args(false);
  run->add_option("--out", req.out_dir, "folder for run directories")->capture_default_str();
  run->add_option("--name", req.name, "run name (default: the pipeline's name)");
  run->add_flag("--force", req.force, "replace an existing run directory of the same name");

  std::string run_dir;
  std::vector<std::string> resume_overrides;
  auto* resume = app.add_subcommand("resume", "continue a stopped run from its newest checkpoint");
  resume->add_option("run_dir", run_dir, "the run directory")->required();
  resume->add_option("--set", resume_overrides, "override training.* values, e.g. training.iterations=50000")->allow_extra_args(false);
  int nproc = 1;
  for (auto* sub : {run, resume})
    sub->add_option("--nproc", nproc, "data-parallel on this machine: N processes over Gloo (docs/distributed.md)")
        ->check(CLI::Range(1, 1024));

  std::string validate_path;
  std::vector<std::string> validate_overrides;
  auto* validate = app.add_subcommand("validate", "check a pipeline and print it with every default filled in");
  validate->add_option("config", validate_path, "pipeline JSON file")->required();
  validate->add_option("--set", validate_overrides, "override a value: a.b.c=VALUE (repeatable)")->allow_extra_args(false);

  bool brief = false;
  auto* plugins = app.add_subcommand("plugins", "list the plugins found, with their options");
  plugins->add_flag("--brief", brief, "names and summaries only");

  std::string describe_name;
  auto* describe = app.add_subcommand("describe", "print a plugin's options and a pipeline section using it");
  describe->add_option("name", describe_name, "plugin name")->required();

  SweepRequest sweep_req;
  auto* sweep = app.add_subcommand("sweep", "run a base pipeline over axes of option values and seeds, then compare");
  sweep->add_option("sweep_file", sweep_req.path, "sweep JSON file")->required();
  sweep->add_option("--out", sweep_req.out_dir, "the sweep's folder (default: runs/<sweep name>)");
  sweep->add_option("--jobs,-j", sweep_req.jobs, "runs at a time, each with cores/N intra-op threads")->capture_default_str();
  sweep->add_option("--set", sweep_req.overrides, "override a value in every run: a.b.c=VALUE (repeatable)")->allow_extra_args(false);
  sweep->add_option("--only", sweep_req.only, "run only these values of an axis: AXIS=NAME[,NAME] (repeatable)")->allow_extra_args(false);
  sweep->add_option("--seeds", sweep_req.seeds, "replace the sweep's seeds: 0,1,2");
  sweep->add_option("--metrics", sweep_req.metrics, "metrics of the comparison table: a,b (default: the sweep's)")->delimiter(',');
  sweep->add_flag("--force", sweep_req.force, "run again, from the start, runs whose folder holds a different pipeline");
  sweep->add_flag("--dry-run", sweep_req.dry_run, "validate every run and list what would happen; start and write nothing");
  sweep->add_option("--emit", sweep_req.emit,
                    "slurm: write a job-array script (one task per run) and its comparison, run nothing (docs/distributed.md)");
  sweep->add_option("--run", sweep_req.run, "run one run of the sweep, by name, in this process (what an array task does)");

  std::string compare_dir;
  std::vector<std::string> compare_metrics;
  auto* compare = app.add_subcommand("compare", "tabulate the summaries of the runs under a folder (mean ± std over seeds)");
  compare->add_option("dir", compare_dir, "a folder of runs (searched recursively)")->required();
  compare->add_option("--metrics", compare_metrics, "metrics to show: a,b (names or suffixes; 'all')")->delimiter(',');
  std::string compare_paired_ref;
  compare->add_option("--paired", compare_paired_ref,
                      "also table each row's per-image log p(x) difference to this row (loglik_per_example.csv)");

  EvaluateRequest eval_req;
  std::int64_t eval_checkpoint = -1;
  auto* evaluate = app.add_subcommand("evaluate", "run a finished run's evaluators again, or new ones, on a checkpoint; merge into summary.json");
  evaluate->add_option("dir", eval_req.dir, "a run directory or a folder of runs (a sweep)")->required();
  evaluate->add_option("--checkpoint", eval_checkpoint, "the step of the checkpoint to evaluate (default: the newest)");
  evaluate->add_option("--evaluator", eval_req.evaluators,
                       "an evaluator section as JSON, e.g. '{\"plugin\": \"loglik\"}' (repeatable; default: the run's own)")
      ->allow_extra_args(false);
  evaluate->add_option("--jobs,-j", eval_req.jobs, "runs evaluated at a time, each with cores/N threads")->capture_default_str();
  evaluate->add_option("--threads", eval_req.threads, "intra-op threads (default: the run's training.threads)");
  evaluate->add_option("--nproc", nproc, "data-parallel evaluation of one run on this machine: N processes over Gloo")
      ->check(CLI::Range(1, 1024));

  std::string report_dir;
  auto* report = app.add_subcommand("report", "write report.html for a run directory, or for a folder of runs and each run in it");
  report->add_option("dir", report_dir, "a run directory or a folder of runs")->required();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version exit 0; every usage error exits 2, like any other bad input.
    return app.exit(e) == 0 ? kOk : kBadInput;
  }

  try {
    Registry registry;
    for (const auto& w : check_plugin_dirs(plugin_paths)) std::cerr << "priorlab: warning: " << w << std::endl;
    registry.discover(plugin_search_path(plugin_paths));
    if (*plugins) {
      std::cout << format_plugins(registry, !brief);
      return kOk;
    }
    if (*describe) {
      std::cout << format_describe(registry, describe_name);
      return kOk;
    }
    if (*validate) {
      // Every check `run` makes short of building the model: the dataset is read, so a batch
      // larger than the training split is refused here too.
      const auto config = load_pipeline(registry, validate_path, validate_overrides);
      build_pipeline(registry, config, /*data_only=*/true);
      std::cout << config.dump(2) << std::endl;
      return kOk;
    }
    if (*compare) {
      compare_command(compare_dir, compare_metrics, compare_paired_ref, &registry);
      return kOk;
    }
    if (*report) return write_reports(report_dir, &registry);
    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);
    if ((*run || *resume || *evaluate) && nproc > 1) {
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
    if (*evaluate) {
      if (eval_checkpoint >= 0) eval_req.checkpoint = eval_checkpoint;
      eval_req.plugin_paths = plugin_paths;
      return evaluate_runs(registry, eval_req, &g_stop);
    }
    if (*sweep) {
      // Every rank would run the whole sweep, and its runs would each try to join the group.
      if (const auto l = launch_from_environment(); l && l->world > 1 && sweep_req.run.empty())
        throw priorlab::Error("sweep", fmt::format("started as rank {} of {} ({} variables): a sweep is one process "
                                                   "that starts its runs; on a cluster use `priorlab sweep {} --emit "
                                                   "slurm` (docs/distributed.md)",
                                                   l->rank, l->world, l->source, sweep_req.path));
      sweep_req.plugin_paths = plugin_paths;
      return run_sweep(registry, sweep_req, &g_stop);
    }
    if (*run) return run_pipeline(registry, req, &g_stop);
    if (*resume) return resume_run(registry, run_dir, resume_overrides, &g_stop);
  } catch (const priorlab::Error& e) {
    std::cerr << "priorlab: error: " << e.what() << std::endl;
    return kBadInput;
  } catch (const std::exception& e) {
    std::cerr << "priorlab: error: " << explain(e) << std::endl;  // located: a file system error names its path
    return kFailed;
  }
  return kOk;
}
