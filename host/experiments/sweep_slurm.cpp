// `sweep FILE --emit slurm`: a sweep's plan written as the scripts of a Slurm job array instead of
// run here: array.sbatch (one array task per run, each `sweep FILE --run NAME` with the sweep's
// flags), compare.sbatch (`priorlab compare DIR`) and submit.sh (both, the comparison after the
// array). run_sweep (sweep.cpp) calls emit_slurm once every run's pipeline is validated.
#include <fmt/format.h>

#include <iostream>

#include "engine/process.hpp"
#include "experiments/sweep_internal.hpp"
#include "priorlab/io.hpp"
#include "priorlab/version.hpp"

namespace fs = std::filesystem;

namespace priorlab::host {

namespace {

// A word for bash, single-quoted: 'it'\''s'.
std::string shell_quote(const std::string& word) {
  std::string q = "'";
  for (const char c : word) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

// What the Slurm scripts of a sweep share: absolute paths, the command that runs priorlab, its flags.
struct SlurmScripts {
  fs::path dir;        // the sweep's folder, absolute
  fs::path scripts;    // DIR/slurm
  std::string prefix;  // the executable and its --plugin-path flags, quoted
  std::string flags;   // --out, --set, --only, --seeds, quoted
  std::string cwd;     // where each task starts
  std::string n;       // the number of runs
  std::string job;     // the job name
};

// The shared parts of the scripts of `plan`, whose folder is `dir` (absolute).
SlurmScripts slurm_scripts(const SweepPlan& plan, const SweepRequest& req, const fs::path& dir) {
  SlurmScripts s;
  s.dir = dir;
  s.scripts = dir / "slurm";
  const std::string exe = self_executable();
  s.prefix = shell_quote(exe);
  for (const auto& p : req.plugin_paths) s.prefix += " --plugin-path " + shell_quote(fs::absolute(p).string());
  s.flags = " --out " + shell_quote(dir.string());
  for (const auto& o : req.overrides) s.flags += " --set " + shell_quote(o);
  for (const auto& o : req.only) s.flags += " --only " + shell_quote(o);
  if (!req.seeds.empty()) s.flags += " --seeds " + shell_quote(req.seeds);
  s.cwd = fs::current_path().string();
  s.n = std::to_string(plan.runs.size());
  s.job = "priorlab-" + filesystem_safe(plan.name);
  return s;
}

// array.sbatch: one array task per run, each running `sweep FILE --run NAME` with the sweep's flags.
std::string slurm_array_script(const SweepPlan& plan, const SweepRequest& req, const SlurmScripts& s,
                               std::int64_t threads) {
  std::string array = fmt::format(
      "#!/bin/bash\n"
      "# Sweep {name}: {n} runs as a Slurm job array, one task per run. Written by `priorlab sweep {file} --emit "
      "slurm`\n"
      "# (priorlab {version}). Each task runs its run by the local sweep's rules: a completed run is skipped, an\n"
      "# interrupted one resumes from its newest checkpoint, a failed one starts again; so this array can be\n"
      "# submitted again after a time limit or a failure. Submit it with the comparison: bash {submit}\n"
      "# Edit the #SBATCH lines for your cluster (partition, time; for a GPU add --gres=gpu:1 with \"device\":\n"
      "# \"cuda\" in the pipeline). --ntasks=N makes each run data-parallel over N ranks (docs/distributed.md).\n"
      "#SBATCH --job-name={job}\n"
      "#SBATCH --array=0-{last}\n"
      "#SBATCH --ntasks=1\n"
      "#SBATCH --cpus-per-task={threads}\n"
      "#SBATCH --output={logs}/slurm-%A_%a.out\n"
      "#SBATCH --signal=TERM@120\n"
      "set -euo pipefail\n"
      "runs=(\n",
      fmt::arg("name", plan.name), fmt::arg("n", s.n), fmt::arg("file", req.path),
      fmt::arg("version", PRIORLAB_VERSION_STRING), fmt::arg("submit", shell_quote((s.scripts / "submit.sh").string())),
      fmt::arg("job", s.job), fmt::arg("last", plan.runs.size() - 1), fmt::arg("threads", threads),
      fmt::arg("logs", (s.dir / "logs").string()));
  for (const auto& r : plan.runs) array += "  " + shell_quote(r.name) + "\n";
  array += fmt::format(
      ")\n"
      "task=${{SLURM_ARRAY_TASK_ID:?set SLURM_ARRAY_TASK_ID to a task in 0-{last}}}\n"
      "if [ \"$task\" -lt 0 ] || [ \"$task\" -ge {n} ]; then echo \"task $task: expected 0-{last}\" >&2; exit 2; fi\n"
      "cd {cwd}\n"
      "# Inside an allocation the run is a job step (srun), whose tasks are its ranks; elsewhere it runs here.\n"
      "launcher=()\n"
      "if [ -n \"${{SLURM_JOB_ID:-}}\" ] && command -v srun > /dev/null; then launcher=(srun --kill-on-bad-exit=1); fi\n"
      "exec \"${{launcher[@]}}\" {prefix} sweep {file}{flags} --run \"${{runs[$task]}}\"\n",
      fmt::arg("last", plan.runs.size() - 1), fmt::arg("n", s.n), fmt::arg("cwd", shell_quote(s.cwd)),
      fmt::arg("prefix", s.prefix), fmt::arg("file", shell_quote(fs::absolute(req.path).string())),
      fmt::arg("flags", s.flags));
  return array;
}

// compare.sbatch: `priorlab compare DIR` once the array has ended.
std::string slurm_compare_script(const SweepPlan& plan, const SweepRequest& req, const SlurmScripts& s) {
  std::string metrics;
  if (!req.metrics.empty()) {
    for (const auto& m : req.metrics) metrics += (metrics.empty() ? "" : ",") + m;
    metrics = " --metrics " + shell_quote(metrics);
  }
  return fmt::format(
      "#!/bin/bash\n"
      "# The comparison of sweep {name} once its array has ended (submit.sh makes it wait for the array).\n"
      "#SBATCH --job-name={job}-compare\n"
      "#SBATCH --ntasks=1\n"
      "#SBATCH --cpus-per-task=1\n"
      "#SBATCH --output={logs}/slurm-compare-%j.out\n"
      "set -euo pipefail\n"
      "cd {cwd}\n"
      "exec {prefix} compare {dir}{metrics}\n",
      fmt::arg("name", plan.name), fmt::arg("job", s.job), fmt::arg("logs", (s.dir / "logs").string()),
      fmt::arg("cwd", shell_quote(s.cwd)), fmt::arg("prefix", s.prefix), fmt::arg("dir", shell_quote(s.dir.string())),
      fmt::arg("metrics", metrics));
}

// submit.sh: submits the array, then the comparison after every task has ended.
std::string slurm_submit_script(const SweepPlan& plan, const SlurmScripts& s) {
  return fmt::format(
      "#!/bin/bash\n"
      "# Submits sweep {name}: the job array, then its comparison after every task has ended.\n"
      "set -euo pipefail\n"
      "array=$(sbatch --parsable {array})\n"
      "echo \"sweep {name}: job array ${{array%%;*}} ({n} tasks)\"\n"
      "sbatch --dependency=afterany:${{array%%;*}} {compare}\n",
      fmt::arg("name", plan.name), fmt::arg("n", s.n),
      fmt::arg("array", shell_quote((s.scripts / "array.sbatch").string())),
      fmt::arg("compare", shell_quote((s.scripts / "compare.sbatch").string())));
}

}  // namespace

namespace detail {

// `sweep FILE --emit slurm`: the scripts of a job array (see sweep.hpp). Every path in them is
// absolute, and each task starts in this working directory, so that a pipeline's relative
// paths (data/) mean what they mean here.
int emit_slurm(const SweepPlan& plan, const SweepRequest& req, const fs::path& dir_in, std::int64_t threads) {
  const fs::path dir = fs::absolute(dir_in).lexically_normal();
  const fs::path scripts = dir / "slurm";
  fs::create_directories(scripts);
  fs::create_directories(dir / "logs");
  write_file_atomic((dir / "sweep.json").string(), plan_record(plan, req).dump(2) + "\n");
  const SlurmScripts s = slurm_scripts(plan, req, dir);
  const std::string array = slurm_array_script(plan, req, s, threads);
  const std::string compare = slurm_compare_script(plan, req, s);
  const std::string submit = slurm_submit_script(plan, s);
  for (const auto& [file, text] : {std::pair<std::string, std::string>{"array.sbatch", array},
                                   {"compare.sbatch", compare}, {"submit.sh", submit}}) {
    write_file_atomic((scripts / file).string(), text);
    fs::permissions(scripts / file, fs::perms::owner_exec | fs::perms::group_exec | fs::perms::others_exec,
                    fs::perm_options::add);
  }
  std::cout << fmt::format("sweep {}: {} runs as a Slurm job array in {}\n  submit: bash {}\n  one task here: "
                           "SLURM_ARRAY_TASK_ID=0 bash {}\n",
                           plan.name, plan.runs.size(), scripts.string(), (scripts / "submit.sh").string(),
                           (scripts / "array.sbatch").string())
            << std::flush;
  return kOk;
}

}  // namespace detail
}  // namespace priorlab::host
