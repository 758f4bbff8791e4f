#include "run/run.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <set>

#include <fmt/format.h>

#include "engine/distributed.hpp"
#include "engine/progress.hpp"
#include "engine/tensorboard.hpp"
#include "engine/trainer.hpp"
#include "pipeline/pipeline.hpp"
#include "pipeline/safety.hpp"
#include "priorlab/io.hpp"
#include "priorlab/plot.hpp"
#include "results/report.hpp"

namespace fs = std::filesystem;

namespace priorlab::host {

std::string dump_json(const nlohmann::json& j) {
  return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

namespace {

void write_json(const fs::path& path, const nlohmann::json& j) { write_file_atomic(path.string(), dump_json(j)); }

void set_status(const fs::path& dir, const std::string& status, std::int64_t step, std::int64_t iterations,
                const std::string& error = {}) {
  nlohmann::json j;
  const auto path = dir / "run.json";
  if (fs::exists(path)) {
    try {
      j = nlohmann::json::parse(read_file(path.string()));
    } catch (const std::exception&) {
      j = nlohmann::json::object();
    }
  }
  if (!j.contains("started")) j["started"] = now_iso();
  j["status"] = status;
  j["step"] = step;
  j["iterations"] = iterations;
  j["updated"] = now_iso();
  j["priorlab_version"] = PRIORLAB_VERSION_STRING;
  if (error.empty()) j.erase("error");
  else j["error"] = error;
  const std::string text = dump_json(j);
  try {
    write_file_atomic(path.string(), text);
  } catch (const std::exception& e) {
    // A full disk has no room for the temporary: overwrite the file in place (its blocks are
    // already allocated), so the run still says what happened to it.
    std::FILE* f = std::fopen(path.c_str(), "r+");
    const bool ok = f && std::fwrite(text.data(), 1, text.size(), f) == text.size() && std::fflush(f) == 0 &&
                    ::ftruncate(::fileno(f), static_cast<off_t>(text.size())) == 0;
    if (f) std::fclose(f);
    if (!ok) std::cerr << "priorlab: warning: cannot record status '" << status << "': " << one_line(e.what()) << std::endl;
  }
}

// ", the last intact checkpoint is checkpoints/step_N.pt: resume with `priorlab resume DIR`"
std::string last_checkpoint_hint(const fs::path& dir) {
  const auto all = list_checkpoints((dir / "checkpoints").string());
  if (all.empty()) return "; no checkpoint was written yet";
  return fmt::format("; the last intact checkpoint is checkpoints/{}: continue with `priorlab resume {}`",
                     fs::path(all.back().second).filename().string(), dir.string());
}

std::string fmt_value(double v) { return fmt::format("{:.5g}", v); }

// report.html is a view of the run directory: failing to write it is said, never fatal.
bool write_report(const fs::path& dir) {
  try {
    write_run_report(dir);
    return true;
  } catch (const std::exception& e) {
    std::cerr << "priorlab: warning: " << (dir / "report.html").string() << ": " << one_line(e.what()) << std::endl;
    return false;
  }
}

}  // namespace

nlohmann::json evaluate_pipeline(Pipeline& p, const fs::path& dir, std::vector<std::string>& errors,
                                 std::vector<std::string>& artefacts, const std::atomic<bool>* stop, ProcessGroup* group) {
  nlohmann::json results = nlohmann::json::object();
  const bool writer = !group || group->rank() == 0;
  const auto artefact_dir = dir / "artefacts";
  if (writer) fs::create_directories(artefact_dir);
  p.network->eval();
  p.prior->eval();
  const bool tty = writer && Progress::stdout_is_terminal();
  if (writer && !pictures_enabled() && !p.evaluators.empty())
    std::cout << "pictures: none are written: this build has no OpenCV (-DPRIORLAB_WITH_OPENCV=OFF)" << std::endl;
  for (size_t i = 0; i < p.evaluators.size(); ++i) {
    // Not a structured binding: clang 14 (the fuzz and sanitizer builds) cannot capture one.
    const std::string& name = p.evaluators[i].name;
    const auto& evaluator = p.evaluators[i].evaluator;
    // A Ctrl-C reaches the ranks at different moments: they agree, so that all run the next
    // evaluator's collectives or none does.
    bool stopping = stop && stop->load();
    if (group) {
      const auto asked = group->gather(stopping ? 1 : 0, "agreeing whether to stop before evaluator '" + name + "'");
      stopping = std::find(asked.begin(), asked.end(), 1) != asked.end();
    }
    if (stopping) {
      errors.push_back(fmt::format("/evaluators/{}: interrupted before evaluator '{}'", i, name));
      break;
    }
    Progress progress("eval " + name, 1000, tty);
    // Without a terminal (a sweep's run log) a long evaluation (S = 5,000 importance samples over
    // an exemplar set) prints a line every 30 s, so the log shows it is under way.
    if (writer) progress.log_every(30);
    EvalContext ctx;
    ctx.network = p.network.get();
    ctx.prior = p.prior.get();
    ctx.dataset = p.dataset.get();
    ctx.objective = p.objective.get();
    ctx.device = p.device;
    ctx.dtype = p.dtype;
    ctx.run_dir = dir.string();
    ctx.artefact_dir = writer ? artefact_dir.string() : std::string();
    ctx.seed = mix_seed(p.seed, 0x6576616cULL /* "eval" */, i);
    ctx.progress = [&](double fraction, const std::string& label) {
      progress.update(static_cast<std::int64_t>(fraction * 1000), label);
    };
    if (group) {
      ctx.rank = group->rank();
      ctx.world = group->world();
      const std::string what = "evaluator '" + name + "'";
      ctx.gather_rows_fn = [group, what](const torch::Tensor& t) { return group->gather_rows(t, "gathering the rows of " + what); };
      ctx.sum_fn = [group, what](const torch::Tensor& t) {
        auto s = t.to(torch::kCPU, torch::kDouble).contiguous().clone();
        group->sum(s, "summing the values of " + what);
        return s;
      };
    }
    torch::manual_seed(ctx.seed);
    const auto start = std::chrono::steady_clock::now();
    try {
      const EvalResult r = call_plugin(name, [&] { return evaluator->evaluate(ctx); });
      progress.finish();
      const std::string key = results.contains(name) ? fmt::format("{}_{}", name, i) : name;
      results[key] = r.metrics;
      for (const auto& a : r.artefacts) artefacts.push_back((fs::path("artefacts") / a).string());
      if (writer)
        std::cout << fmt::format("eval {} done in {}{}", name,
                                 Progress::clock(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count()),
                                 group ? fmt::format(" on {} ranks", group->world()) : std::string())
                  << std::endl;
    } catch (const std::exception& e) {
      progress.finish();
      errors.push_back(fmt::format("/evaluators/{}: {}", i, explain(e)));
      std::cerr << "priorlab: error: " << (group ? group->name() + ": " : std::string()) << errors.back() << std::endl;
      if (group) {
        // The ranks may now be inside different collectives: this evaluation cannot go on.
        if (!writer) throw Error(group->name(), "evaluation stopped at evaluator '" + name + "'");
        for (size_t j = i + 1; j < p.evaluators.size(); ++j)
          errors.push_back(fmt::format("/evaluators/{}: not run: a data-parallel evaluation ends at its first error "
                                       "(`priorlab evaluate {}` redoes it in one process)",
                                       j, dir.string()));
        break;
      }
    }
  }
  return results;
}

std::string abbreviate_metrics(const nlohmann::json& metrics) {
  // Keys "<stem>_<index>" (per-dimension values: active_units' activity_0 ... activity_31) of
  // one stem, three or more of them, become one entry "stem_0..31 [32: min a, max b]" where the
  // first of them stood. summary.json keeps every value.
  struct Group {
    std::vector<double> values;
    std::int64_t lo = 0, hi = 0;
  };
  auto split = [](const std::string& k, std::string& stem, std::int64_t& index) {
    const auto us = k.rfind('_');
    if (us == std::string::npos || us + 1 == k.size() || k.find_first_not_of("0123456789", us + 1) != std::string::npos ||
        k.size() - us > 10)
      return false;
    stem = k.substr(0, us);
    index = std::stoll(k.substr(us + 1));
    return true;
  };
  std::map<std::string, Group> groups;
  for (const auto& [k, v] : metrics.items()) {
    std::string stem;
    std::int64_t i = 0;
    if (v.is_number() && split(k, stem, i)) {
      auto& g = groups[stem];
      g.lo = g.values.empty() ? i : std::min(g.lo, i);
      g.hi = g.values.empty() ? i : std::max(g.hi, i);
      g.values.push_back(v.get<double>());
    }
  }
  std::string line;
  std::set<std::string> shown;
  for (const auto& [k, v] : metrics.items()) {
    std::string stem;
    std::int64_t i = 0;
    if (split(k, stem, i) && groups.count(stem) && groups[stem].values.size() >= 3) {
      if (!shown.insert(stem).second) continue;
      const auto& g = groups[stem];
      const auto [mn, mx] = std::minmax_element(g.values.begin(), g.values.end());
      line += fmt::format("  {}_{}..{} [{}: min {}, max {}]", stem, g.lo, g.hi, g.values.size(), fmt_value(*mn),
                          fmt_value(*mx));
    } else if (v.is_number()) {
      line += fmt::format("  {} {}", k, fmt_value(v.get<double>()));
    } else {
      line += fmt::format("  {} {}", k, v.dump());
    }
  }
  return line;
}

void print_evaluations(const nlohmann::json& evaluators, const std::vector<std::string>& artefacts,
                       const fs::path& dir) {
  for (const auto& [name, metrics] : evaluators.items())
    std::cout << fmt::format("  {:<20}{}\n", name, abbreviate_metrics(metrics));
  for (const auto& a : artefacts) std::cout << "  picture: " << (dir / a).string() << "\n";
  std::cout << "  summary: " << (dir / "summary.json").string() << std::endl;
  if (write_report(dir)) std::cout << "  report:  " << (dir / "report.html").string() << std::endl;
}

std::unique_ptr<ProcessGroup> join_launch(Pipeline& p, const std::optional<Launch>& launch) {
  if (!launch || launch->world <= 1) return nullptr;
  if (p.device.is_cuda()) {
    p.device = torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(launch->local_rank));
    p.network->to(p.device, p.dtype);
    p.prior->to(p.device, p.dtype);
  }
  return ProcessGroup::connect(*launch, distributed_options_of(p.config), p.device);
}

namespace {

std::string world_note(const ProcessGroup* group) {
  return group ? fmt::format(", {} processes over {}", group->world(), group->backend()) : std::string();
}

// A rank other than 0: trains, then does its share of the evaluators' work; rank 0 writes the results.
int train_and_evaluate_rank(Pipeline& p, const fs::path& dir, Trainer& trainer, const std::atomic<bool>* stop) {
  std::vector<std::string> errors, artefacts;
  try {
    trainer.train();
    if (!trainer.finished()) return kInterrupted;
    // Its share of the evaluators' work; rank 0 writes the results.
    evaluate_pipeline(p, dir, errors, artefacts, stop, trainer.process_group());
  } catch (const std::exception& e) {
    std::cerr << "priorlab: error: " << explain(e) << std::endl;
    return kFailed;
  }
  return errors.empty() ? kOk : kFailed;
}

// Trains the run; when training fails or stops short, records and says so and returns the exit code.
std::optional<int> train_run(const fs::path& dir, Trainer& trainer, std::int64_t iterations) {
  set_status(dir, "running", trainer.step(), iterations);
  try {
    trainer.train();
  } catch (const std::exception& e) {
    // Located errors keep their place; anything else (LibTorch, the file system) is named as
    // coming from the training step, and the run is marked failed either way.
    const auto* located = dynamic_cast<const Error*>(&e);
    std::string what =
        located ? located->what()
                : Error(fmt::format("training step {}", trainer.step() + 1), explain(e)).what();
    what += last_checkpoint_hint(dir);
    set_status(dir, "failed", trainer.step(), iterations, what);
    std::cerr << "priorlab: error: " << what << std::endl;
    write_report(dir);
    return kFailed;
  }
  if (!trainer.finished()) {
    set_status(dir, "interrupted", trainer.step(), iterations);
    write_report(dir);
    std::cerr << fmt::format("priorlab: interrupted at step {}; continue with: priorlab resume {}", trainer.step(),
                             dir.string())
              << std::endl;
    return kInterrupted;
  }
  return std::nullopt;
}

// What a finished run's evaluation gave: the evaluators' metrics, pictures and errors, and summary.json.
struct Evaluation {
  std::vector<std::string> errors, artefacts;
  nlohmann::json evaluators, summary;
};

// Runs the evaluators on the trained run and writes summary.json.
Evaluation evaluate_run(Pipeline& p, const fs::path& dir, const Trainer& trainer, const std::atomic<bool>* stop) {
  Evaluation r;
  // The training's all-reduce figures, before the evaluators' collectives add to them.
  const auto distributed = trainer.distributed_summary();
  r.evaluators = evaluate_pipeline(p, dir, r.errors, r.artefacts, stop, trainer.process_group());
  write_evaluation_events(dir, p.config.value("tensorboard", true), trainer.step(), r.evaluators, r.artefacts);
  r.summary = {{"name", p.name},
               {"status", r.errors.empty() ? "completed" : "failed"},
               {"steps", trainer.step()},
               {"wall_seconds", trainer.wall_seconds()},
               {"train", trainer.last_metrics()},
               {"evaluators", r.evaluators},
               {"artefacts", r.artefacts}};
  if (!r.errors.empty()) r.summary["errors"] = r.errors;
  if (!trainer.constraint_guard().is_null()) r.summary["constraint_guard"] = trainer.constraint_guard();
  if (const auto collapse = trainer.collapse_summary(); !collapse.is_null()) r.summary["collapse"] = collapse;
  if (!distributed.is_null()) r.summary["distributed"] = distributed;
  write_json(dir / "summary.json", r.summary);
  return r;
}

// What a researcher reads first: the run's outcome, the last interval, the guard, the layers, the evaluators.
void print_run(const Pipeline& p, const fs::path& dir, const Trainer& trainer, const Evaluation& r) {
  const nlohmann::json& summary = r.summary;
  std::cout << fmt::format("\nrun {} {}: {} steps in {} -> {}\n", p.name, summary["status"].get<std::string>(),
                           trainer.step(), Progress::clock(trainer.wall_seconds()), dir.string());
  const auto& t = trainer.last_metrics();
  if (!t.empty())
    std::cout << fmt::format("  {:<20} loss {}  distortion {}  rate {}  beta {}\n", "train (last interval)",
                             fmt_value(t["loss"]), fmt_value(t["distortion"]), fmt_value(t["rate"]), fmt_value(t["beta"]));
  if (const auto& g = trainer.constraint_guard(); g.is_object())
    std::cout << fmt::format("  {:<20} can_bind {}  threshold {}  baseline {} ({} per dimension, a decoder ignoring z)\n",
                             "constraint guard", g["can_bind"].dump(), fmt_value(g["threshold"]),
                             g["baseline"].is_number() ? fmt_value(g["baseline"]) : "unknown",
                             g["measure"].get<std::string>());
  if (const auto& c = summary.value("collapse", nlohmann::json()); c.is_object()) {
    std::string layers;
    for (const auto& l : c["layers"])
      layers += fmt::format("{}{} {} ({} of {} active{})", layers.empty() ? "" : "  ", l["name"].get<std::string>(),
                            l["alive"].get<bool>() ? "alive" : "COLLAPSED", l["active_units"].get<std::int64_t>(),
                            l["dimensions"].get<std::int64_t>(),
                            l.contains("kl") ? ", KL " + fmt_value(l["kl"]) + " nats" : std::string());
    std::cout << fmt::format("  {:<20} {}\n", "stochastic layers", layers);
  }
  print_evaluations(r.evaluators, r.artefacts, dir);
}

// Trains (from wherever the trainer stands) and evaluates; writes summary.json and run.json.
// A rank other than 0 trains and does its share of the evaluators: rank 0 writes the folder.
int train_and_evaluate(Pipeline& p, const fs::path& dir, Trainer& trainer, const std::atomic<bool>* stop) {
  if (!trainer.writer()) return train_and_evaluate_rank(p, dir, trainer, stop);
  const std::int64_t iterations = p.config["training"]["iterations"];
  if (const auto stopped = train_run(dir, trainer, iterations)) return *stopped;
  Evaluation r;
  try {
    r = evaluate_run(p, dir, trainer, stop);
  } catch (const std::exception& e) {
    // Training is done and checkpointed: `priorlab evaluate DIR` redoes this part alone.
    const std::string what = fmt::format("{}; training finished (step {}), so `priorlab evaluate {}` can redo the "
                                         "evaluation",
                                         explain(e), trainer.step(), dir.string());
    set_status(dir, "failed", trainer.step(), iterations, what);
    std::cerr << "priorlab: error: " << what << std::endl;
    write_report(dir);  // as train_run does: the page says failed, not what an earlier session ended with
    return kFailed;
  }
  set_status(dir, r.errors.empty() ? "completed" : "failed", trainer.step(), iterations,
             r.errors.empty() ? "" : r.errors.front());
  print_run(p, dir, trainer, r);
  return r.errors.empty() ? kOk : kFailed;
}

}  // namespace

nlohmann::json load_pipeline(const Registry& registry, const std::string& path, const std::vector<std::string>& overrides) {
  Provenance provenance;
  nlohmann::json raw = load_pipeline_file(path, &provenance);
  for (const auto& o : overrides) apply_override(raw, o, &provenance);
  return resolve_pipeline(registry, raw, path, fs::path(path).stem().string(), &provenance);
}

nlohmann::json load_pipeline(const Registry& registry, const nlohmann::json& raw, const std::string& source,
                             const std::vector<std::string>& overrides) {
  Provenance provenance;
  nlohmann::json value = load_pipeline_value(raw, source, &provenance);
  for (const auto& o : overrides) apply_override(value, o, &provenance);
  return resolve_pipeline(registry, value, source, "pipeline", &provenance);
}

int run_pipeline(const Registry& registry, const RunRequest& request, const std::atomic<bool>* stop,
                 std::string* run_dir) {
  nlohmann::json config = request.config.is_null()
                              ? load_pipeline(registry, request.config_path, request.overrides)
                              : load_pipeline(registry, request.config, request.config_source, request.overrides);
  if (!request.name.empty()) {
    check_run_name(request.name, "--name");
    config["name"] = request.name;
  }
  const std::string name = config["name"];
  const fs::path dir = fs::path(request.out_dir) / name;
  if (run_dir) *run_dir = dir.string();
  const auto exists = [&] {
    return Error(dir.string(), fmt::format("run directory already exists; pass --force to replace it, or continue it "
                                           "with `priorlab resume {}`",
                                           dir.string()));
  };
  const auto launch = launch_from_environment();
  const bool distributed = launch && launch->world > 1;
  if (!distributed && fs::exists(dir) && !request.force) throw exists();
  // Build everything before touching the disk: a bad pipeline leaves nothing behind. Every
  // rank builds the same pipeline from the same seed, then joins the group.
  Pipeline p = build_pipeline(registry, config);
  const auto group = join_launch(p, launch);
  if (!group || group->rank() == 0)
    std::cout << fmt::format("priorlab {}: {} on {} ({} training examples, {} steps per epoch{})",
                             PRIORLAB_VERSION_STRING, name, p.device.str(), p.dataset->size(Split::Train),
                             p.steps_per_epoch, world_note(group.get()))
              << std::endl;

  // The directory appears whole: config.json and run.json are written into a staging folder
  // (this process's own, locked) that is renamed into place. A second run into the same folder
  // loses the rename, or finds the folder locked, and is refused. Rank 0 alone does it.
  std::optional<RunLock> lock;
  run_on_rank0(group.get(), "creating the run folder", [&] {
    if (fs::exists(dir) && !request.force) throw exists();
    fs::create_directories(request.out_dir);
    const fs::path staging = fs::path(request.out_dir) / fmt::format(".{}.staging.{}", name, ::getpid());
    fs::remove_all(staging);
    fs::create_directories(staging);
    lock = RunLock::acquire(staging, "run");
    // Lost a race: another process created the folder after the check above.
    const auto taken = [&] {
      const long pid = RunLock::holder(dir);
      return Error(dir.string(), fmt::format("run directory already exists (another process created it{}); pass "
                                             "--force to replace it, or continue it with `priorlab resume {}`",
                                             pid > 0 ? fmt::format(": pid {}", pid) : "", dir.string()));
    };
    try {
      write_json(staging / "config.json", config);
      set_status(staging, "created", 0, config["training"]["iterations"]);
      if (fs::exists(dir)) {
        if (!request.force) throw taken();
        const RunLock old = RunLock::acquire(dir, "run --force");  // never replace a folder in use
        fs::remove_all(dir);
      }
      std::error_code ec;
      fs::rename(staging, dir, ec);
      if (ec) throw taken();
    } catch (...) {
      std::error_code ec;
      fs::remove_all(staging, ec);
      throw;
    }
  });

  Trainer trainer(p, dir.string(), Progress::stdout_is_terminal(), stop);
  trainer.set_process_group(group.get());
  return train_and_evaluate(p, dir, trainer, stop);
}

int resume_run(const Registry& registry, const std::string& run_dir, const std::vector<std::string>& overrides,
               const std::atomic<bool>* stop) {
  const fs::path dir(run_dir);
  const auto config_path = dir / "config.json";
  if (!fs::exists(config_path))
    throw Error(run_dir, "not a run directory (no config.json); start one with `priorlab run CONFIG`");
  // Only what does not change the model or the order of batches may change on resume, in
  // either spelling of --set: training.iterations=N or /training/iterations=N.
  for (const auto& o : overrides) {
    const auto eq = o.find('=');
    const auto& names = resumable_training_options();
    const bool allowed = eq != std::string::npos && eq > 0 &&
                         std::any_of(names.begin(), names.end(), [&](const std::string& n) {
                           return option_pointer(o.substr(0, eq), "--set " + o) == "/training/" + n;
                         });
    if (!allowed) {
      std::string list;  // "a, b and c", from the one list the check above reads
      for (size_t i = 0; i < names.size(); ++i) list += (i == 0 ? "" : i + 1 == names.size() ? " and " : ", ") + names[i];
      throw Error("--set " + o, "resume may only change training." + list + " (the rest must match the checkpoints)");
    }
  }
  const nlohmann::json config = load_pipeline(registry, config_path.string(), overrides);
  Pipeline p = build_pipeline(registry, config);
  const auto group = join_launch(p, launch_from_environment());
  std::optional<RunLock> lock;
  run_on_rank0(group.get(), "locking the run folder", [&] {
    lock = RunLock::acquire(dir, "resume");  // one writer per run folder
    if (const int n = remove_stale_temporaries(dir); n > 0)
      std::cout << fmt::format("priorlab: removed {} temporary file(s) left by an earlier write that did not finish", n)
                << std::endl;
  });
  Trainer trainer(p, dir.string(), Progress::stdout_is_terminal(), stop);
  trainer.set_process_group(group.get());
  const auto step = trainer.restore_latest();
  const std::int64_t iterations = config["training"]["iterations"];
  if (iterations < step)
    throw Error("training.iterations", fmt::format("{} is below the step the run has reached ({}); a run cannot be "
                                                   "shortened: start a new one, or evaluate a checkpoint with "
                                                   "`priorlab evaluate {} --checkpoint STEP`",
                                                   iterations, step, dir.string()));
  if (!trainer.writer()) return train_and_evaluate(p, dir, trainer, stop);
  write_json(config_path, config);
  std::cout << fmt::format("priorlab {}: resuming {} at step {} of {}{}", PRIORLAB_VERSION_STRING, p.name, step,
                           iterations, world_note(group.get()))
            << std::endl;
  const std::int64_t world_now = group ? group->world() : 1;
  if (trainer.checkpoint_world() > 0 && trainer.checkpoint_world() != world_now)
    std::cout << fmt::format("priorlab: note: step {} was trained by {} process(es), this session runs {}: each batch "
                             "is the same but split differently, and its sums are added in another order, so the run "
                             "matches an uninterrupted one to float rounding, not bit for bit",
                             step, trainer.checkpoint_world(), world_now)
              << std::endl;
  const std::int64_t threads_now = at::get_num_threads();
  if (trainer.checkpoint_threads() > 0 && trainer.checkpoint_threads() != threads_now)
    std::cout << fmt::format("priorlab: note: step {} was trained with {} intra-op thread(s), this session uses {}: "
                             "reductions change order, so the run is no longer bit-identical to an uninterrupted one "
                             "(resume with --set training.threads={} to keep it so)",
                             step, trainer.checkpoint_threads(), threads_now, trainer.checkpoint_threads())
              << std::endl;
  return train_and_evaluate(p, dir, trainer, stop);
}

std::string format_plugins(const Registry& registry, bool with_options) {
  std::string out;
  std::vector<const PluginEntry*> sorted;
  for (const auto& p : registry.plugins()) sorted.push_back(&p);
  std::sort(sorted.begin(), sorted.end(), [](auto* a, auto* b) { return std::tie(a->kind, a->name) < std::tie(b->kind, b->name); });
  std::string kind;
  for (const auto* p : sorted) {
    if (p->kind != kind) {
      out += fmt::format("{}{}:\n", kind.empty() ? "" : "\n", p->kind);
      kind = p->kind;
    }
    out += fmt::format("  {:<18} {:<7} {}\n", p->name, p->version, p->summary);
    if (with_options) {
      std::string opts;
      for (const auto& o : p->options.items()) opts += fmt::format("{}{}={}", opts.empty() ? "" : ", ", o.name(), o.default_value().dump());
      out += fmt::format("  {:<18} options: {}\n", "", opts.empty() ? "(none)" : opts);
    }
  }
  if (registry.plugins().empty()) {
    out += "no plugins found; searched:\n";
    for (const auto& d : registry.searched()) out += "  " + d + "\n";
  }
  for (const auto& r : registry.refusals()) out += "refused: " + r + "\n";
  return out;
}

std::string format_describe(const Registry& registry, const std::string& name) {
  const PluginEntry* p = registry.find_any(name);
  if (!p) {
    std::string known;
    std::vector<std::string> names;
    for (const auto& q : registry.plugins()) known += (known.empty() ? "" : ", ") + q.name, names.push_back(q.name);
    throw Error(name, fmt::format("no such plugin (available: {}){}", known, registry.unknown_hint(name, names)));
  }
  std::string out = fmt::format("{} ({} {}): {}\nlibrary: {}\n", p->name, p->kind, p->version, p->summary, p->library_path);
  out += p->options.items().empty() ? "options: none\n" : "options:\n";
  for (const auto& o : p->options.items())
    out += fmt::format("  {:<22} {:<34} default {}\n  {:<22} {}\n", o.name(), o.describe_type(), o.default_value().dump(),
                       "", o.help_text());
  nlohmann::json snippet = {{p->kind == "evaluator" ? "evaluators" : p->kind, {{"plugin", p->name}, {"options", nlohmann::json::object()}}}};
  for (const auto& o : p->options.items()) snippet.begin().value()["options"][o.name()] = o.default_value();
  if (p->kind == "evaluator") snippet["evaluators"] = nlohmann::json::array({snippet["evaluators"]});
  return out + "pipeline section with every default:\n" + snippet.dump(2) + "\n";
}

}  // namespace priorlab::host
