#include "experiments/evaluate.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <map>
#include <thread>
#include <tuple>

#include <fmt/format.h>

#include "engine/progress.hpp"
#include "engine/tensorboard.hpp"
#include "engine/trainer.hpp"
#include "pipeline/pipeline.hpp"
#include "pipeline/safety.hpp"
#include "priorlab/error.hpp"
#include "priorlab/io.hpp"
#include "results/compare.hpp"
#include "run/run.hpp"

extern char** environ;

namespace fs = std::filesystem;
using nlohmann::json;

namespace priorlab::host {

namespace {

// One run, checked: its resolved pipeline with the evaluators to run, and the checkpoint.
struct Target {
  fs::path dir;
  json config;  // resolved, evaluators replaced when --evaluator was given
  std::int64_t step = 0;
  std::string checkpoint;
};

json parse_section(const std::string& text) {
  const json j = parse_json(text, "--evaluator " + text);
  if (!j.is_object())
    throw Error("--evaluator " + text,
                fmt::format("expected an evaluator section {{\"plugin\": NAME, \"options\": {{...}}}}, found {}",
                            j.type_name()));
  return j;
}

Target check_run(const Registry& registry, const fs::path& dir, const std::vector<json>& sections,
                 const std::vector<std::string>& texts, const std::optional<std::int64_t>& checkpoint) {
  const fs::path config_path = dir / "config.json";
  const json config = read_json_or_null(config_path);
  if (!config.is_object())
    throw Error(dir.string(), "not a run directory (no readable config.json); evaluate a run, or a folder of runs");
  Target t;
  t.dir = dir;
  t.config = resolve_pipeline(registry, config, config_path.string(), dir.filename().string());
  if (!texts.empty()) {
    t.config["evaluators"] = json::array();
    for (size_t i = 0; i < sections.size(); ++i) {
      json one = config;
      one["evaluators"] = json::array({sections[i]});
      try {
        t.config["evaluators"].push_back(
            resolve_pipeline(registry, one, config_path.string(), dir.filename().string())["evaluators"][0]);
      } catch (const Error& e) {
        // "/evaluators/0/options/samples" is "/options/samples" of the section given.
        const std::string prefix = config_path.string() + ": /evaluators/0";
        std::string where = e.where();
        where = where.rfind(prefix, 0) == 0 ? where.substr(prefix.size()) : where;
        throw Error(where, e.message()).located("--evaluator " + texts[i]);
      }
    }
  }
  if (t.config["evaluators"].empty()) throw Error(dir.string(), "the run has no evaluators; name some with --evaluator");
  std::tie(t.step, t.checkpoint) =
      find_checkpoint(dir.string(), checkpoint, "evaluate", "--checkpoint " + std::to_string(checkpoint.value_or(0)));
  return t;
}

// Under a launch (`evaluate RUN --nproc N`, torchrun, srun) every rank loads the checkpoint and
// does its share of the evaluators; rank 0 holds the run's lock and writes.
int evaluate_one(const Registry& registry, Target& t, int threads, const std::atomic<bool>* stop,
                 const std::optional<Launch>& launch) {
  if (threads > 0) t.config["training"]["threads"] = threads;  // this process only: config.json is not rewritten
  Pipeline p = build_pipeline(registry, t.config);
  const auto group = join_launch(p, launch);
  std::optional<RunLock> lock;  // one writer per run folder
  run_on_rank0(group.get(), "locking the run folder", [&] { lock.emplace(RunLock::acquire(t.dir, "evaluate")); });
  Trainer trainer(p, t.dir.string(), false, stop);
  trainer.load_checkpoint(t.checkpoint);
  const json status = read_json_or_null(t.dir / "run.json");
  const std::int64_t iterations = t.config["training"]["iterations"];
  if (!group || group->rank() == 0)
    std::cout << fmt::format("priorlab {}: evaluating {} at step {} of {}{} with {} evaluator(s){}", PRIORLAB_VERSION_STRING,
                             p.name, t.step, iterations, t.step < iterations ? " (not the end of training)" : "",
                             p.evaluators.size(),
                             group ? fmt::format(", {} processes over {}", group->world(), group->backend()) : "")
              << std::endl;
  std::vector<std::string> errors, artefacts;
  json results;
  try {
    results = evaluate_pipeline(p, t.dir, errors, artefacts, stop, group.get());
  } catch (const std::exception& e) {
    if (!group || group->rank() == 0) throw;
    std::cerr << "priorlab: error: " << explain(e) << std::endl;
    return kFailed;
  }
  if (group && group->rank() != 0) return errors.empty() ? kOk : kFailed;  // rank 0 writes
  if (stop && stop->load()) {
    std::cerr << fmt::format("priorlab: interrupted; {} is unchanged", (t.dir / "summary.json").string()) << std::endl;
    return kInterrupted;
  }
  json summary = read_json_or_null(t.dir / "summary.json");
  if (!summary.is_object())
    summary = {{"name", p.name},
               {"status", status.is_object() ? status.value("status", "unknown") : "unknown"},
               {"steps", t.step}};
  if (!summary.contains("evaluators") || !summary["evaluators"].is_object()) summary["evaluators"] = json::object();
  if (!summary.contains("artefacts") || !summary["artefacts"].is_array()) summary["artefacts"] = json::array();
  const std::string at = now_iso();
  for (const auto& [name, metrics] : results.items()) {
    summary["evaluators"][name] = metrics;
    summary["evaluated"][name] = {{"step", t.step}, {"at", at}};
  }
  for (const auto& a : artefacts)
    if (std::find(summary["artefacts"].begin(), summary["artefacts"].end(), a) == summary["artefacts"].end())
      summary["artefacts"].push_back(a);
  write_file_atomic((t.dir / "summary.json").string(), dump_json(summary));
  write_evaluation_events(t.dir, t.config.value("tensorboard", true), t.step, results, artefacts);
  std::cout << fmt::format("\nevaluated {} at step {} -> {}\n", p.name, t.step, t.dir.string());
  print_evaluations(results, artefacts, t.dir);
  for (const auto& e : errors) std::cerr << "priorlab: error: " << e << std::endl;
  return errors.empty() ? kOk : kFailed;
}


// Evaluates the targets `jobs` at a time in child processes (this executable, `evaluate RUN`),
// each with its output in RUN/evaluate.log. Returns the worst exit code.
int evaluate_in_children(const std::vector<Target>& targets, const EvaluateRequest& req, const std::atomic<bool>* stop) {
  const std::string exe = self_executable();
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const int threads = req.threads > 0 ? req.threads : std::max(1, cores / req.jobs);
  std::map<pid_t, size_t> running;
  size_t next = 0, done = 0;
  int worst = kOk;
  auto launch = [&](size_t i) {
    std::vector<std::string> args{exe};
    for (const auto& p : req.plugin_paths) args.insert(args.end(), {"--plugin-path", p});
    args.insert(args.end(), {"evaluate", targets[i].dir.string(), "--checkpoint", std::to_string(targets[i].step),
                             "--threads", std::to_string(threads)});
    for (const auto& e : req.evaluators) args.insert(args.end(), {"--evaluator", e});
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    const fs::path log = targets[i].dir / "evaluate.log";
    const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) throw Error(log.string(), std::string("cannot write the evaluation's log: ") + std::strerror(errno));
    std::cout.flush();
    const pid_t pid = ::fork();
    if (pid < 0) throw Error("evaluate", std::string("fork failed: ") + std::strerror(errno));
    if (pid == 0) {
      ::dup2(fd, STDOUT_FILENO);
      ::dup2(fd, STDERR_FILENO);
      ::execve(argv[0], argv.data(), environ);
      ::_exit(127);
    }
    ::close(fd);
    running[pid] = i;
    std::cout << fmt::format("evaluate [{}/{}] start {} (log: {})", i + 1, targets.size(), targets[i].dir.string(),
                             log.string())
              << std::endl;
  };
  bool stopping = false;
  while (done < targets.size()) {
    while (!stopping && running.size() < static_cast<size_t>(req.jobs) && next < targets.size()) launch(next++);
    if (running.empty()) break;
    int status = 0;
    const pid_t pid = ::waitpid(-1, &status, WNOHANG);
    if (pid <= 0) {
      if (stop && stop->load() && !stopping) {
        stopping = true;
        for (const auto& [child, _] : running) ::kill(child, SIGTERM);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      continue;
    }
    const auto it = running.find(pid);
    if (it == running.end()) continue;
    const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    ++done;
    std::cout << fmt::format("evaluate [{}/{}] {} {}", it->second + 1, targets.size(),
                             code == kOk ? "done  " : code == kInterrupted ? "stopped" : "FAILED",
                             targets[it->second].dir.string())
              << (code == kOk || code == kInterrupted ? "" : fmt::format(" (exit code {}; see its evaluate.log)", code))
              << std::endl;
    if (code == kInterrupted) worst = worst == kOk ? kInterrupted : worst;
    else if (code != kOk) worst = kFailed;
    running.erase(it);
  }
  if (stopping) return kInterrupted;
  return worst;
}

}  // namespace

int evaluate_runs(const Registry& registry, const EvaluateRequest& req, const std::atomic<bool>* stop) {
  if (req.jobs < 1) throw Error("--jobs", fmt::format("expected an integer >= 1, found {}", req.jobs));
  if (req.threads < 0 || req.threads > max_threads())
    throw Error("--threads", fmt::format("expected an integer in [0, {}] (4 per core), found {}", max_threads(), req.threads));
  std::error_code ec;
  if (!fs::is_directory(req.dir, ec)) throw Error(req.dir, "not a folder: expected a run directory or a folder of runs");
  std::vector<json> sections;
  for (const auto& text : req.evaluators) sections.push_back(parse_section(text));
  const auto dirs = find_run_dirs(req.dir);
  if (dirs.empty()) throw Error(req.dir, "holds no run directory (a folder with config.json and run.json)");
  // Everything is checked before anything runs: a bad section or a missing checkpoint changes nothing.
  std::vector<Target> targets;
  for (const auto& d : dirs) targets.push_back(check_run(registry, d, sections, req.evaluators, req.checkpoint));
  const auto launch = launch_from_environment();
  if (launch && launch->world > 1 && (targets.size() > 1 || req.jobs > 1))
    throw Error(req.dir, fmt::format("started as rank {} of {} ({} variables): a data-parallel evaluation takes one "
                                     "run directory and --jobs 1 (found {} runs, --jobs {})",
                                     launch->rank, launch->world, launch->source, targets.size(), req.jobs));
  if (req.jobs == 1 || targets.size() == 1) {
    int worst = kOk;
    for (size_t i = 0; i < targets.size(); ++i) {
      if (targets.size() > 1) std::cout << fmt::format("\nevaluate [{}/{}] {}", i + 1, targets.size(), targets[i].dir.string()) << std::endl;
      const int code = evaluate_one(registry, targets[i], req.threads, stop, launch);
      if (code == kInterrupted) return kInterrupted;
      if (code != kOk) worst = kFailed;
    }
    return worst;
  }
  return evaluate_in_children(targets, req, stop);
}

}  // namespace priorlab::host
