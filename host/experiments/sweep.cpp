// Running a sweep: run_sweep and its five steps, plan (load_selected_plan) and validate
// (resolve_jobs), skip or resume (decide_action), the folder under its lock (open_sweep_folder),
// launch and collect the child runs (ChildRuns), compare (compare_sweep); --dry-run
// (check_datasets, print_dry_run) and --run NAME, one run of the plan in this process (run_task).
// The plan itself is made in sweep_plan.cpp; --emit slurm is sweep_slurm.cpp.
#include "experiments/sweep.hpp"

#include <fcntl.h>
#include <sched.h>
#include <fmt/format.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <thread>

#include "engine/progress.hpp"
#include "engine/trainer.hpp"
#include "experiments/sweep_internal.hpp"
#include "pipeline/pipeline.hpp"
#include "priorlab/error.hpp"
#include "priorlab/io.hpp"
#include "results/compare.hpp"
#include "results/report.hpp"
#include "run/run.hpp"

extern char** environ;

namespace fs = std::filesystem;
using nlohmann::json;

namespace priorlab::host {

using detail::emit_slurm;   // sweep_slurm.cpp
using detail::plan_record;  // sweep_plan.cpp

namespace {

// What decides whether a run folder holds the sweep's run: its pipeline less the intra-op threads
// (the sweep sets them per machine) and less the description (prose, which the sweep composes, and
// which runs written before it did so lack).
json sweep_identity(json c) {
  if (c.is_object() && c.contains("training") && c["training"].is_object()) c["training"].erase("threads");
  if (c.is_object()) c.erase("description");
  return c;
}

// What happens to a run of the plan in this invocation.
enum class Action { kSkip, kRun, kReplace, kResume };

struct Job {
  const SweepRun* run = nullptr;
  json config;  // resolved
  Action action = Action::kRun;
  std::int64_t resume_step = 0;
  size_t slot = 0;  // position in the plan's status list
  pid_t pid = -1;
  std::chrono::steady_clock::time_point started;
  size_t number = 0;  // 1-based launch order
};

// Holds DIR/.lock for the whole sweep. The descriptor is inherited by the child runs (no
// close-on-exec), so the lock stays held until the last of them exits, even when this process
// is killed: a second sweep on the folder waits for them instead of training beside them.
class FolderLock {
 public:
  explicit FolderLock(const fs::path& dir) {
    const auto path = (dir / ".lock").string();
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT, 0644);
    if (fd_ < 0) throw Error(path, std::string("cannot open the sweep's lock file: ") + std::strerror(errno));
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    bool said = false;
    while (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
      if (std::chrono::steady_clock::now() > deadline) {
        ::close(fd_);
        throw Error(dir.string(), "another sweep is running in this folder (its lock .lock is still held after 60 s)");
      }
      if (!said)
        std::cout << fmt::format("sweep: {} is locked by another sweep or its runs still stopping; waiting up to 60 s",
                                 dir.string())
                  << std::endl;
      said = true;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  }
  ~FolderLock() {
    if (fd_ >= 0) ::close(fd_);
  }
  FolderLock(const FolderLock&) = delete;
  FolderLock& operator=(const FolderLock&) = delete;

 private:
  int fd_ = -1;
};

// The last "priorlab: error: ..." line of a run's log.
std::string error_from_log(const fs::path& log) {
  std::ifstream in(log);
  std::string line, last;
  while (std::getline(in, line))
    if (line.rfind("priorlab: error: ", 0) == 0) last = line.substr(17);
  return last;
}

// The CPUs this process may use (a Slurm allocation or a container restricts them), at least 1.
long usable_cores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (::sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0) return CPU_COUNT(&set);
  return std::max(1L, ::sysconf(_SC_NPROCESSORS_ONLN));
}

// Seconds from `t` to now.
double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

// The base's own training.threads when it sets a positive count, else 0 (the sweep sets them).
std::int64_t base_threads(const SweepPlan& plan) {
  const json& base = plan.base;
  const bool user_threads = base.contains("training") && base["training"].is_object() &&
                            base["training"].value("threads", json(0)).is_number_integer() &&
                            base["training"].value("threads", json(0)).get<std::int64_t>() > 0;
  return user_threads ? base["training"]["threads"].get<std::int64_t>() : 0;
}

// Step 1, plan: the sweep file expanded, with --seeds and --only applied; at least one run.
SweepPlan load_selected_plan(const SweepRequest& req) {
  if (req.jobs < 1) throw Error("--jobs", fmt::format("expected an integer >= 1, found {}", req.jobs));
  SweepPlan plan = load_sweep(req.path);
  if (!req.seeds.empty()) set_sweep_seeds(plan, req.seeds);
  for (const auto& o : req.only) filter_sweep(plan, o);
  if (plan.runs.empty()) throw Error(req.path, "the sweep selects no runs");
  return plan;
}

// Step 1, validate: every run's pipeline resolved, with the --set overrides after its axis values;
// one job per run of `plan` (which must outlive them), in the plan's order.
std::vector<Job> resolve_jobs(const Registry& registry, const SweepRequest& req, const SweepPlan& plan) {
  std::vector<Job> jobs(plan.runs.size());
  for (size_t i = 0; i < plan.runs.size(); ++i) {
    const SweepRun& r = plan.runs[i];
    json raw = r.pipeline;
    Provenance provenance = r.provenance;
    for (const auto& o : req.overrides) apply_override(raw, o, &provenance);
    if (!req.overrides.empty() && raw.contains("description") && raw["description"].is_string() &&
        provenance.origin("/description").rfind("--set ", 0) != 0) {
      std::string said = raw["description"];
      said += " Set on the command line for every run:";
      for (const auto& o : req.overrides) said += " --set " + o;
      raw["description"] = said + ".";
    }
    raw["name"] = r.name;
    if (r.seed) raw["seed"] = *r.seed;
    jobs[i].run = &r;
    jobs[i].slot = i;
    jobs[i].config = resolve_pipeline(registry, raw, fmt::format("{}: run {}", req.path, r.name), r.name, &provenance);
  }
  return jobs;
}

// --run NAME: keeps the job of that run alone; throws when the plan has no such run.
void keep_only_run(std::vector<Job>& jobs, const std::string& name) {
  const auto it = std::find_if(jobs.begin(), jobs.end(), [&](const Job& j) { return j.run->name == name; });
  if (it == jobs.end()) {
    std::string names;
    for (size_t i = 0; i < jobs.size() && i < 5; ++i) names += (i ? ", " : "") + jobs[i].run->name;
    throw Error("--run " + name, fmt::format("the sweep plans no run of that name ({} runs: {}{})", jobs.size(), names,
                                             jobs.size() > 5 ? ", ..." : ""));
  }
  Job one = std::move(*it);
  jobs.clear();
  jobs.push_back(std::move(one));
}

// Why an existing run folder (its config.json and run.json) does not hold `config`, or "" when it does.
std::string run_dir_conflict(const json& existing, const json& status, const json& config) {
  if (!existing.is_object() || !status.is_object())
    return "exists but is not a run directory (no config.json or run.json)";
  if (sweep_identity(existing) == sweep_identity(config)) return "";
  const json diff = json::diff(sweep_identity(existing), sweep_identity(config));
  const std::string path = diff.empty() ? "/" : diff[0].value("path", "/");
  const json::json_pointer p(path);
  return fmt::format("holds a different pipeline ({}: {} in the run, {} in the sweep)", path,
                     existing.contains(p) ? existing.at(p).dump() : "nothing",
                     config.contains(p) ? config.at(p).dump() : "nothing");
}

// Step 2, skip or resume: sets what `job` needs from its folder under `dir` (none: it runs).
void decide_action(const Registry& registry, bool force, const fs::path& dir, Job& job) {
  std::error_code ec;
  const fs::path run_dir = dir / job.run->name;
  if (!fs::exists(run_dir, ec)) return;
  json existing = read_json_or_null(run_dir / "config.json");
  // Resolved again under this build's defaults: a run written before an option existed (its
  // config.json has no key for it) holds the same pipeline as the sweep's run.
  if (existing.is_object()) {
    try {
      existing = resolve_pipeline(registry, existing, (run_dir / "config.json").string(), job.run->name);
    } catch (const Error&) {
      // Left as it is: it differs, and the message below names where.
    }
  }
  const json status = read_json_or_null(run_dir / "run.json");
  const std::string conflict = run_dir_conflict(existing, status, job.config);
  if (!conflict.empty()) {
    if (!force)
      throw Error(run_dir.string(), conflict + "; use another --out, or --force to run it again from the start");
    job.action = Action::kReplace;
    return;
  }
  const std::string st = status.value("status", "");
  if (st == "completed" && fs::exists(run_dir / "summary.json", ec)) {
    job.action = Action::kSkip;
  } else if (st == "failed") {
    job.action = Action::kReplace;  // a failed run starts again from step 0
  } else {
    job.action = Action::kResume;  // created, running (killed), interrupted: continue from its checkpoint
    // The step it resumes from is its newest checkpoint on disk (what `resume` loads), not
    // run.json's step, which a killed run wrote when its session began.
    const auto checkpoints = list_checkpoints((run_dir / "checkpoints").string());
    job.resume_step = checkpoints.empty() ? 0 : checkpoints.back().first;
  }
}

// --dry-run reads the dataset of every run it would start or resume, as `validate` does (a batch
// larger than the training split, a missing data file or folder are refused here, not minutes
// into the sweep); once per distinct dataset section, data root, seed and batch size.
void check_datasets(const Registry& registry, const std::string& sweep_path, const std::vector<Job>& jobs) {
  std::set<std::string> seen;
  for (const auto& job : jobs) {
    if (job.action == Action::kSkip) continue;
    const json& c = job.config;
    const std::string key =
        json::array({c.at("dataset"), c.at("data_root"), c.at("seed"), c.at("training").at("batch_size")}).dump();
    if (!seen.insert(key).second) continue;
    try {
      build_pipeline(registry, c, /*data_only=*/true);
    } catch (const Error& e) {
      throw e.located(fmt::format("{}: run {}", sweep_path, job.run->name));
    }
  }
}

// --dry-run: what each run would do; returns kOk.
int print_dry_run(const SweepPlan& plan, const fs::path& dir, const std::vector<Job>& jobs) {
  std::cout << fmt::format("sweep {}: {} runs -> {} (dry run: nothing is started or written)\n", plan.name, jobs.size(),
                           dir.string());
  for (const auto& job : jobs) {
    const char* what = job.action == Action::kSkip      ? "skip (completed)"
                       : job.action == Action::kResume  ? "resume"
                       : job.action == Action::kReplace ? "run again from the start"
                                                        : "run";
    std::cout << fmt::format("  {:<26} {}\n", what, job.run->name);
  }
  std::cout.flush();
  return kOk;
}

// --run NAME: the one run of an array task, in this process: skipped, resumed or (re)started.
int run_task(const Registry& registry, const SweepPlan& plan, const fs::path& dir, const Job& job, bool user_threads,
             const std::atomic<bool>* stop) {
  const fs::path run_dir = dir / job.run->name;
  const auto launch = launch_from_environment();
  const bool writer = !launch || launch->rank == 0;
  auto say = [&](const std::string& what) {
    if (writer) std::cout << fmt::format("sweep {} task {}: {}", plan.name, job.run->name, what) << std::endl;
  };
  if (job.action == Action::kSkip) {
    say("completed already (skipped)");
    return kOk;
  }
  if (job.action == Action::kResume) {
    say(fmt::format("resuming from its checkpoint at step {}", job.resume_step));
    return resume_run(registry, run_dir.string(), {}, stop);
  }
  fs::create_directories(dir / "pipelines");
  json config = job.config;
  if (!user_threads) config["training"]["threads"] = usable_cores();  // the task's allocation
  // Every rank of a data-parallel task writes the same file, atomically.
  const fs::path pipeline = dir / "pipelines" / (job.run->name + ".json");
  write_file_atomic(pipeline.string(), config.dump(2) + "\n");
  say(job.action == Action::kReplace ? "from the start, replacing the old run" : "starting");
  RunRequest run;
  run.config_path = pipeline.string();
  run.out_dir = dir.string();
  run.name = job.run->name;
  run.force = job.action == Action::kReplace;
  return run_pipeline(registry, run, stop);
}

// DIR/status.json: the state of every run of a local sweep, written again at each change.
struct SweepStatus {
  fs::path dir;
  json state;

  // Counts the runs by status and writes status.json.
  void save() {
    json counts = json::object();
    for (const auto& r : state["runs"])
      counts[r["status"].get<std::string>()] = counts.value(r["status"].get<std::string>(), 0) + 1;
    state["counts"] = counts;
    state["updated"] = now_iso();
    write_file_atomic((dir / "status.json").string(), state.dump(2) + "\n");
  }
};

// Step 3, under the folder's lock: logs/, pipelines/, sweep.json and the first status.json
// (skipped runs completed, the others pending).
SweepStatus open_sweep_folder(const SweepPlan& plan, const SweepRequest& req, const fs::path& dir,
                              const std::vector<Job>& jobs) {
  fs::create_directories(dir / "logs");
  fs::create_directories(dir / "pipelines");
  SweepStatus status;
  status.dir = dir;
  status.state = {
      {"name", plan.name}, {"description", plan.description}, {"started", now_iso()}, {"runs", json::array()}};
  for (const auto& job : jobs) {
    json axes = json::object();
    for (const auto& [k, v] : job.run->axes) axes[k] = v;
    json entry = {{"name", job.run->name}, {"axes", axes}};
    if (job.run->seed) entry["seed"] = *job.run->seed;
    entry["status"] = job.action == Action::kSkip ? "completed" : "pending";
    if (job.action == Action::kSkip) entry["skipped"] = true;
    status.state["runs"].push_back(entry);
  }
  write_file_atomic((dir / "sweep.json").string(), plan_record(plan, req).dump(2) + "\n");
  status.save();
  return status;
}

// The runs to start, seed by seed (every combination's first seed before any second).
std::vector<Job*> runs_to_start(std::vector<Job>& jobs) {
  std::vector<Job*> todo;
  for (auto& job : jobs)
    if (job.action != Action::kSkip) todo.push_back(&job);
  std::stable_sort(todo.begin(), todo.end(),
                   [](const Job* a, const Job* b) { return a->run->seed.value_or(0) < b->run->seed.value_or(0); });
  return todo;
}

// A run's child process: its command line, and what its start line adds to the run's name.
struct ChildCommand {
  std::vector<std::string> args;
  std::string what;
};

// Forks `args` as a child in its own process group, its output to `log`; returns its pid.
pid_t spawn_child(std::vector<std::string>& args, std::vector<std::string>& environment, const fs::path& log,
                  bool append, pid_t parent) {
  std::vector<char*> argv, envp;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  for (auto& e : environment) envp.push_back(e.data());
  envp.push_back(nullptr);
  const int log_fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | (append ? O_APPEND : O_TRUNC), 0644);
  if (log_fd < 0) throw Error(log.string(), std::string("cannot write the run's log: ") + std::strerror(errno));
  std::cout.flush();
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(log_fd);
    throw Error("sweep", std::string("cannot start a run: fork failed: ") + std::strerror(errno));
  }
  if (pid == 0) {
    // Child: only async-signal-safe calls until exec. Its own process group, so a Ctrl-C at
    // the terminal reaches the sweep only (which passes one SIGTERM on); SIGTERM when the
    // sweep dies, so no run trains on unattended.
    ::setpgid(0, 0);
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (::getppid() != parent) ::_exit(kInterrupted);
    ::dup2(log_fd, STDOUT_FILENO);
    ::dup2(log_fd, STDERR_FILENO);
    const int null_fd = ::open("/dev/null", O_RDONLY);
    if (null_fd >= 0) ::dup2(null_fd, STDIN_FILENO);
    ::execve(argv[0], argv.data(), envp.data());
    ::_exit(127);
  }
  ::close(log_fd);
  return pid;
}

// How a child run ended: "completed", "interrupted" or "failed" (with why), and its exit code.
struct Outcome {
  int code = 0;
  std::string result, error;
};

// Reads a child's outcome from its wait status, run.json and log. `stopping`: the sweep sent it SIGTERM.
Outcome child_outcome(int wait_status, const fs::path& run_dir, const fs::path& log, bool stopping) {
  Outcome o;
  o.code = WIFEXITED(wait_status) ? WEXITSTATUS(wait_status) : 128 + WTERMSIG(wait_status);
  const json status = read_json_or_null(run_dir / "run.json");
  o.result = "failed";
  if (o.code == kOk) {
    o.result = "completed";
  } else if (o.code == kInterrupted || (stopping && WIFSIGNALED(wait_status))) {
    o.result = "interrupted";
  } else {
    if (status.is_object() && status.value("status", "") == "failed") o.error = status.value("error", "");
    if (o.error.empty()) o.error = error_from_log(log);
    if (o.error.empty())
      o.error = WIFSIGNALED(wait_status) ? fmt::format("killed by signal {}", WTERMSIG(wait_status))
                                         : fmt::format("exit code {}", o.code);
  }
  return o;
}

// The child processes of a local sweep: what they start with, which run now, and how they ended.
struct ChildRuns {
  ChildRuns(const SweepRequest& req, const fs::path& dir, SweepStatus& status) : req(req), dir(dir), status(status) {}

  const SweepRequest& req;
  const fs::path& dir;
  SweepStatus& status;
  bool user_threads = false;  // the pipeline sets training.threads itself
  int parallel = 1;           // runs at a time
  int threads = 1;            // each run's threads, unless the pipeline sets them
  size_t total = 0;           // the runs to start
  std::string exe;
  std::vector<std::string> environment;  // this process's, with the children's OMP_NUM_THREADS
  std::chrono::steady_clock::time_point sweep_start;
  pid_t parent = -1;
  std::map<pid_t, Job*> running;
  size_t launched = 0, failed = 0, completed = 0, interrupted = 0;
  bool stopping = false;

  void prepare(const SweepPlan& plan, size_t planned, size_t to_start, std::int64_t pipeline_threads);
  ChildCommand command(const Job& job) const;
  void launch(Job& job);
  void finish(Job& job, int wait_status);
  void run_all(const std::vector<Job*>& todo, const std::atomic<bool>* stop);
};

// Shares the machine among the runs to start (N at a time, the cores split among them), says so,
// and sets up the children's environment.
void ChildRuns::prepare(const SweepPlan& plan, size_t planned, size_t to_start, std::int64_t pipeline_threads) {
  total = to_start;
  user_threads = pipeline_threads > 0;
  const size_t skipped = planned - total;
  const long cores = usable_cores();
  parallel = static_cast<int>(std::min<size_t>(req.jobs, std::max<size_t>(total, 1)));
  threads = static_cast<int>(std::max(1L, cores / parallel));
  std::cout << fmt::format("sweep {}: {} runs ({} already completed, {} to run){} -> {}", plan.name, planned, skipped,
                           total,
                           total == 0 ? ""
                                      : fmt::format(", {} at a time, {}", parallel,
                                                    user_threads ? "threads as the pipeline says"
                                                                 : fmt::format("{} thread(s) each", threads)),
                           dir.string())
            << std::endl;

  exe = self_executable();
  for (char** e = environ; *e; ++e)
    if (std::strncmp(*e, "OMP_NUM_THREADS=", 16) != 0) environment.emplace_back(*e);
  const std::int64_t child_threads = user_threads ? pipeline_threads : static_cast<std::int64_t>(threads);
  environment.push_back(fmt::format("OMP_NUM_THREADS={}", child_threads));
  sweep_start = std::chrono::steady_clock::now();
  parent = ::getpid();
}

// The command line that starts or resumes `job`; writes the pipeline file of a run that starts.
ChildCommand ChildRuns::command(const Job& job) const {
  const fs::path run_dir = dir / job.run->name;
  ChildCommand c;
  c.args = {exe};
  for (const auto& p : req.plugin_paths) c.args.insert(c.args.end(), {"--plugin-path", p});
  if (job.action == Action::kResume) {
    // A resumed run keeps the thread count it started with, whatever --jobs is now: another
    // count changes the order of reductions, and the run would no longer be bit-identical.
    c.args.insert(c.args.end(), {"resume", run_dir.string()});
    c.what = fmt::format(" (resuming from its checkpoint at step {}, with the thread count it started with)",
                         job.resume_step);
  } else {
    json config = job.config;
    if (!user_threads) config["training"]["threads"] = threads;
    const fs::path pipeline = dir / "pipelines" / (job.run->name + ".json");
    write_file_atomic(pipeline.string(), config.dump(2) + "\n");
    c.args.insert(c.args.end(), {"run", pipeline.string(), "--out", dir.string(), "--name", job.run->name});
    if (job.action == Action::kReplace)
      c.args.push_back("--force"), c.what = " (from the start, replacing the old run)";
  }
  return c;
}

// Step 4, launch: starts `job` as a child process, marks it running in status.json and says so.
void ChildRuns::launch(Job& job) {
  const fs::path log = dir / "logs" / (job.run->name + ".log");
  ChildCommand c = command(job);
  const pid_t pid = spawn_child(c.args, environment, log, job.action == Action::kResume, parent);
  job.pid = pid;
  job.started = std::chrono::steady_clock::now();
  job.number = ++launched;
  running[pid] = &job;
  json& entry = status.state["runs"][job.slot];
  entry["status"] = "running";
  entry["started"] = now_iso();
  std::error_code ec;
  entry["log"] = fs::relative(log, dir, ec).string();
  entry.erase("error");
  entry.erase("exit_code");
  status.save();
  std::cout << fmt::format("sweep [{}/{}] start {}{}  (sweep elapsed {})", job.number, total, job.run->name, c.what,
                           Progress::clock(seconds_since(sweep_start)))
            << std::endl;
}

// Step 4, collect: records how `job` ended in status.json and the tally, and says so.
void ChildRuns::finish(Job& job, int wait_status) {
  const fs::path run_dir = dir / job.run->name;
  const fs::path log = dir / "logs" / (job.run->name + ".log");
  json& entry = status.state["runs"][job.slot];
  const Outcome o = child_outcome(wait_status, run_dir, log, stopping);
  entry["status"] = o.result;
  entry["exit_code"] = o.code;
  entry["seconds"] = seconds_since(job.started);
  entry["finished"] = now_iso();
  if (!o.error.empty()) entry["error"] = o.error;
  status.save();
  if (o.result == "completed")
    ++completed;
  else if (o.result == "interrupted")
    ++interrupted;
  else
    ++failed;
  std::string line = fmt::format("sweep [{}/{}] {} {} in {}  (sweep elapsed {})", job.number, total,
                                 o.result == "completed" ? "done  "
                                 : o.result == "failed"  ? "FAILED"
                                                         : "stopped",
                                 job.run->name, Progress::clock(seconds_since(job.started)),
                                 Progress::clock(seconds_since(sweep_start)));
  if (o.result == "failed") line += fmt::format(": {} (exit {}; log {})", o.error, o.code, log.string());
  (o.result == "failed" ? std::cerr : std::cout) << line << std::endl;
}

// Step 4: launches the runs of `todo` N at a time and collects each as it ends, until none is left
// running; on `stop`, passes one SIGTERM to each running run and starts no more.
void ChildRuns::run_all(const std::vector<Job*>& todo, const std::atomic<bool>* stop) {
  size_t next = 0;
  while (true) {
    if (!stopping && stop && stop->load()) {
      stopping = true;
      std::cout << fmt::format(
                       "sweep: stopping; {} running run(s) write a checkpoint and stop; run the same command "
                       "again to continue",
                       running.size())
                << std::endl;
      for (const auto& [pid, job] : running) ::kill(pid, SIGTERM);
    }
    while (!stopping && running.size() < static_cast<size_t>(parallel) && next < todo.size()) launch(*todo[next++]);
    if (running.empty()) break;
    int wait_status = 0;
    const pid_t pid = ::waitpid(-1, &wait_status, WNOHANG);
    if (pid == 0 || (pid < 0 && errno == EINTR)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      continue;
    }
    if (pid < 0) break;  // ECHILD: nothing left to wait for
    const auto it = running.find(pid);
    if (it == running.end()) continue;
    Job* job = it->second;
    running.erase(it);
    finish(*job, wait_status);
  }
}

// Step 5, compare: the sweep's summary line, then the comparison table and the sweep's report
// over whatever has finished; returns the sweep's exit code.
int compare_sweep(const Registry& registry, const SweepPlan& plan, const ChildRuns& runs, size_t skipped) {
  const fs::path& dir = runs.dir;
  const size_t not_started = runs.total - runs.launched;
  std::cout << fmt::format("\nsweep {}: {} completed ({} skipped as already done), {} failed{}{} in {} -> {}\n",
                           plan.name, runs.completed + skipped, skipped, runs.failed,
                           runs.interrupted ? fmt::format(", {} stopped", runs.interrupted) : "",
                           not_started ? fmt::format(", {} not started", not_started) : "",
                           Progress::clock(seconds_since(runs.sweep_start)), dir.string());
  int code = runs.stopping ? kInterrupted : runs.failed ? kFailed : kOk;
  try {
    // The sweep file's own metrics come from sweep.json, as for `priorlab compare`: one that no run
    // reports (beta_one_step when no beta reached 1) is left out instead of failing the table.
    // Metrics given with --metrics are the user's request: a missing one stays an error.
    const Comparison c = compare_runs(dir, runs.req.metrics, &registry);
    write_comparison(c);
    const std::string curves = write_comparison_curves(c);
    const std::string heatmap = write_comparison_heatmaps(c);
    write_folder_report(c, runs.status.state);
    std::cout << "\n"
              << comparison_markdown(c) << "\ncomparison: " << (dir / "comparison.md").string() << ", "
              << (dir / "comparison.csv").string() << (curves.empty() ? "" : "\npicture: " + curves)
              << (heatmap.empty() ? "" : "\npicture: " + heatmap)
              << "\nreport: " << (dir / "report.html").string() << std::endl;
  } catch (const std::exception& e) {
    std::cerr << "priorlab: error: comparison of " << dir.string() << ": " << one_line(e.what()) << std::endl;
    if (code == kOk) code = kFailed;
  }
  return code;
}

}  // namespace

int run_sweep(const Registry& registry, const SweepRequest& req, const std::atomic<bool>* stop) {
  // 1. Expand and validate everything before touching the disk.
  const SweepPlan plan = load_selected_plan(req);
  const fs::path dir = req.out_dir.empty() ? fs::path("runs") / plan.name : fs::path(req.out_dir);
  const std::int64_t pipeline_threads = base_threads(plan);  // 0: the sweep sets them
  std::vector<Job> jobs = resolve_jobs(registry, req, plan);

  if (!req.emit.empty()) {
    if (req.emit != "slurm") throw Error("--emit", fmt::format("expected slurm, found \"{}\"", req.emit));
    if (!req.run.empty()) throw Error("--emit", "writes the scripts of every run: leave out --run");
    return emit_slurm(plan, req, dir, pipeline_threads > 0 ? pipeline_threads : std::int64_t{1});
  }
  // One array task: this run alone, and nothing of the sweep's own state (other tasks run
  // beside it); the others are not read.
  if (!req.run.empty()) keep_only_run(jobs, req.run);

  // 2. What each run needs: skip, start, replace or resume.
  for (auto& job : jobs) decide_action(registry, req.force, dir, job);
  if (req.dry_run) {
    check_datasets(registry, req.path, jobs);
    return print_dry_run(plan, dir, jobs);
  }
  if (!req.run.empty()) return run_task(registry, plan, dir, jobs.front(), pipeline_threads > 0, stop);

  // 3. The folder, its lock, the plan and the state.
  fs::create_directories(dir);
  FolderLock lock(dir);
  SweepStatus status = open_sweep_folder(plan, req, dir, jobs);

  // 4. Run what is missing, seed by seed (every combination's first seed before any second).
  const std::vector<Job*> todo = runs_to_start(jobs);
  ChildRuns runs(req, dir, status);
  runs.prepare(plan, jobs.size(), todo.size(), pipeline_threads);
  runs.run_all(todo, stop);

  // 5. The comparison table and the sweep's report, over whatever has finished.
  return compare_sweep(registry, plan, runs, jobs.size() - todo.size());
}

}  // namespace priorlab::host
