// Sweeps: expansion of axes and seeds into named runs, located errors for bad sweep files,
// skipping completed runs, a failed run recorded without stopping the others, and a killed
// sweep finished by running the same command again.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "experiments/sweep.hpp"
#include "test_util.hpp"

using namespace priorlab;
using namespace priorlab::host;
using test::json;
namespace fs = std::filesystem;

namespace {

// A sweep over the small test pipeline: `axes` and `seeds` as given, few steps, one fast evaluator.
json small_sweep(const json& axes, const json& seeds, std::int64_t iterations = 30) {
  json base = test::small_pipeline(iterations);
  base["training"]["checkpoint_every"] = 0;
  base["dataset"]["options"]["size"] = 200;
  base["evaluators"] = json::parse(R"([{"plugin": "reconstruction", "options": {"pictures": 4}}])");
  json s = {{"name", "tiny"}, {"base", base}, {"axes", axes}};
  if (!seeds.is_null()) s["seeds"] = seeds;
  return s;
}

std::string write_sweep(const test::TempDir& dir, const json& sweep, const std::string& name = "s.json") {
  test::write_text(dir.path() / name, sweep.dump(2));
  return name;
}

json read_json(const fs::path& p) { return json::parse(std::ifstream(p)); }

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

std::string expansion_error(const json& sweep) {
  try {
    expand_sweep(sweep, "s.json", ".");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

// Starts `priorlab ARGS...` in `cwd` in the background with output to `log`; returns its pid.
pid_t spawn(const test::TempDir& cwd, const std::vector<std::string>& args, const fs::path& log) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::chdir(cwd.str().c_str());
    const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    std::vector<char*> argv{const_cast<char*>(PRIORLAB_EXE)};
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(PRIORLAB_EXE, argv.data());
    ::_exit(127);
  }
  return pid;
}

bool wait_for(const fs::path& p, int seconds = 120) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (!fs::exists(p)) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

}  // namespace

TEST(Sweep, ExpansionIsTheProductOfTheAxesWithSeedsInnermost) {
  const json axes = json::parse(R"([
    {"path": "/prior", "values": [{"plugin": "gaussian"},
                                  {"name": "vhp4", "value": {"plugin": "vhp", "options": {"samples": 4}}}]},
    {"name": "lr", "path": "training.learning_rate", "values": [0.001, 0.0001]}
  ])");
  const SweepPlan plan = expand_sweep(small_sweep(axes, {1, 2}), "s.json", ".");
  ASSERT_EQ(plan.runs.size(), 8u);  // 2 priors x 2 learning rates x 2 seeds
  const std::vector<std::string> names = {"prior=gaussian,lr=0.001,seed=1",  "prior=gaussian,lr=0.001,seed=2",
                                          "prior=gaussian,lr=0.0001,seed=1", "prior=gaussian,lr=0.0001,seed=2",
                                          "prior=vhp4,lr=0.001,seed=1",      "prior=vhp4,lr=0.001,seed=2",
                                          "prior=vhp4,lr=0.0001,seed=1",     "prior=vhp4,lr=0.0001,seed=2"};
  for (size_t i = 0; i < names.size(); ++i) EXPECT_EQ(plan.runs[i].name, names[i]);
  // The whole /prior section is replaced, not merged; the dotted path sets one number.
  EXPECT_EQ(plan.runs[0].pipeline["prior"], json::parse(R"({"plugin": "gaussian"})"));
  EXPECT_EQ(plan.runs[7].pipeline["prior"], json::parse(R"({"plugin": "vhp", "options": {"samples": 4}})"));
  EXPECT_EQ(plan.runs[2].pipeline["training"]["learning_rate"], 0.0001);
  EXPECT_EQ(plan.runs[3].pipeline["seed"], 2);
  EXPECT_EQ(plan.runs[3].seed, 2);
  EXPECT_EQ(plan.runs[5].axes, (std::vector<std::pair<std::string, std::string>>{{"prior", "vhp4"}, {"lr", "0.001"}}));
  EXPECT_EQ(plan.runs[0].pipeline["training"]["batch_size"], 32);  // the rest of the base is kept
  EXPECT_EQ(plan.name, "tiny");
}

TEST(Sweep, ValuesMaySetSeveralPathsAndDerivedNamesAreFolderSafe) {
  const json axes = json::parse(R"([
    {"name": "net", "values": [{"name": "wide", "set": {"/network/options/hidden": [256], "training.batch_size": 16}},
                               {"name": "narrow", "set": {"/network/options/hidden": [8]}}]},
    {"path": "/description", "values": ["a/b c", "x,y=z"]}
  ])");
  const SweepPlan plan = expand_sweep(small_sweep(axes, 2), "dir/my.sweep.json", ".");
  ASSERT_EQ(plan.runs.size(), 8u);
  EXPECT_EQ(plan.runs[0].name, "net=wide,description=a-b-c,seed=0");
  EXPECT_EQ(plan.runs[3].name, "net=wide,description=x-y-z,seed=1");
  EXPECT_EQ(plan.runs[0].pipeline["network"]["options"]["hidden"], json({256}));
  EXPECT_EQ(plan.runs[0].pipeline["training"]["batch_size"], 16);
  EXPECT_EQ(plan.runs[4].pipeline["network"]["options"]["hidden"], json({8}));
  EXPECT_EQ(plan.runs[4].pipeline["training"]["batch_size"], 32);
  EXPECT_EQ(plan.runs[2].pipeline["description"], "x,y=z");
  EXPECT_EQ(filesystem_safe(".."), "x..");
  EXPECT_EQ(filesystem_safe("1e-06"), "1e-06");
}

TEST(Sweep, ARunsDescriptionSaysWhichRunItIsAndWhatTheSweepChanged) {
  const json axes = json::parse(R"([{"path": "/scheduler", "values": [{"plugin": "constant"},
                                    {"name": "warm", "value": {"plugin": "warmup", "options": {"epochs": 1}}}]}])");
  json s = small_sweep(axes, {0});
  s["base"]["description"] = "The base, trained with beta = 1 for 30 steps.";
  s["description"] = "Two schedules.";
  s["set"] = {{"training.iterations", 40}, {"/training/batch_size", 16}};
  const SweepPlan plan = expand_sweep(s, "s.json", ".");
  ASSERT_EQ(plan.runs.size(), 2u);
  EXPECT_EQ(plan.runs[1].pipeline["description"],
            "Run scheduler=warm,seed=0 of sweep tiny (s.json). Two schedules. The sweep sets /training/batch_size, "
            "/training/iterations for every run. This run's values: scheduler = warm (/scheduler), seed = 0 (/seed). "
            "What the base's description says of these paths does not hold for this run. The base (inline in the "
            "sweep file): The base, trained with beta = 1 for 30 steps.");

  // A sweep that sets /description itself (in "set" or on an axis) keeps its own words.
  s["set"]["/description"] = "mine";
  EXPECT_EQ(expand_sweep(s, "s.json", ".").runs[0].pipeline["description"], "mine");
  s["set"].erase("/description");
  s["axes"].push_back(json::parse(R"({"name": "d", "path": "description", "values": ["own"]})"));
  EXPECT_EQ(expand_sweep(s, "s.json", ".").runs[1].pipeline["description"], "own");
}

TEST(Sweep, NoAxesAndNoSeedsIsOneRunNamedAfterTheSweep) {
  json s = small_sweep(json::array(), nullptr);
  s.erase("name");
  const SweepPlan plan = expand_sweep(s, "configs/lonely.json", ".");
  ASSERT_EQ(plan.runs.size(), 1u);
  EXPECT_EQ(plan.runs[0].name, "lonely");
  EXPECT_FALSE(plan.runs[0].seed.has_value());
}

TEST(Sweep, OnlyAndSeedsNarrowThePlan) {
  const json axes = json::parse(
      R"([{"path": "/scheduler", "values": [{"plugin": "constant"}, {"plugin": "warmup"}, {"plugin": "rewo"}]}])");
  SweepPlan plan = expand_sweep(small_sweep(axes, 3), "s.json", ".");
  ASSERT_EQ(plan.runs.size(), 9u);
  set_sweep_seeds(plan, "4,5");
  filter_sweep(plan, "scheduler=rewo,constant");
  ASSERT_EQ(plan.runs.size(), 4u);
  EXPECT_EQ(plan.runs[0].name, "scheduler=constant,seed=4");
  EXPECT_EQ(plan.runs[3].name, "scheduler=rewo,seed=5");
  EXPECT_THROW(filter_sweep(plan, "scheduler=geco"), Error);
  EXPECT_THROW(filter_sweep(plan, "prior=vhp"), Error);
  EXPECT_THROW(set_sweep_seeds(plan, "1,x"), Error);
}

TEST(Sweep, BadSweepFilesAreLocatedErrors) {
  const json good_axes = json::parse(R"([{"path": "/prior", "values": [{"plugin": "gaussian"}]}])");
  auto with = [&](const std::string& pointer, const json& v) {
    json s = small_sweep(good_axes, {0});
    s[json::json_pointer(pointer)] = v;
    return s;
  };
  EXPECT_EQ(expansion_error(with("/axis", 1)),
            "s.json: /axis: unknown key 'axis' (expected: name, description, base, set, axes, seeds, metrics)");
  EXPECT_EQ(expansion_error(with("/axes/0/values", json::array())),
            "s.json: /axes/0/values: expected a non-empty list of values, found array");
  EXPECT_EQ(expansion_error(with("/axes/0/values/1", {{"plugin", "gaussian"}})),
            "s.json: /axes/0/values/1: a second value named 'gaussian' on axis 'prior': give one a \"name\"");
  EXPECT_EQ(expansion_error(with("/seeds", {0, -1})), "s.json: /seeds/1: expected an integer >= 0, found number -1");
  EXPECT_EQ(expansion_error(with("/seeds", {0, 0})), "s.json: /seeds/1: seed 0 appears twice");
  EXPECT_EQ(expansion_error(with("/axes/0/values/0", {{"name", "a b"}, {"value", 1}})),
            "s.json: /axes/0/values/0/name: expected a short name (letters, digits, . _ + -), found string \"a b\"");
  EXPECT_EQ(expansion_error(with("/base", 3)),
            "s.json: /base: expected a pipeline object or a path to one, found number 3");
  EXPECT_EQ(expansion_error(with("/base", "missing.json")), "s.json: /base: missing.json: no such file");
  json no_path = small_sweep(json::parse(R"([{"name": "x", "values": [1]}])"), nullptr);
  EXPECT_EQ(expansion_error(no_path),
            "s.json: /axes/0/values/0: this value says nothing about where it goes: give the axis "
            "a \"path\", or the value a \"set\"");
  json two =
      small_sweep(json::parse(R"([{"path": "/prior", "values": [1]}, {"path": "/prior", "values": [2]}])"), nullptr);
  EXPECT_EQ(expansion_error(two), "s.json: /axes/1/name: a second axis named 'prior'");
}

TEST(Sweep, BadSweepFileExitsTwoWithOneLineAndWritesNothing) {
  test::TempDir dir;
  test::write_text(dir.path() / "broken.json", "{\n  \"base\": {},\n  \"axes\": [\n}\n");
  auto r = test::run_cli("sweep broken.json --out out", dir.str());
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_EQ(r.output.rfind("priorlab: error: broken.json:4:1: malformed JSON", 0), 0u) << r.output;
  EXPECT_EQ(count(r.output, "\n"), 1u) << r.output;

  // A run whose pipeline does not validate names the run and the JSON path; nothing is started.
  const json axes = json::parse(R"([{"path": "/prior", "values": [{"plugin": "gaussian"},
                                    {"name": "bad", "value": {"plugin": "vhp", "options": {"sampels": 4}}}]}])");
  r = test::run_cli("sweep " + write_sweep(dir, small_sweep(axes, {0})) + " --out out", dir.str());
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_EQ(r.output.rfind(
                "priorlab: error: s.json: run prior=bad,seed=0 (value from s.json: /axes/0/values/1): /prior/options/sampels: "
                "unknown option 'sampels'", 0),
            0u)
      << r.output;
  EXPECT_EQ(count(r.output, "\n"), 1u) << r.output;
  EXPECT_FALSE(fs::exists(dir.path() / "out"));

  r = test::run_cli("sweep " + write_sweep(dir, small_sweep(axes, {0})) + " --out out --only prior=vhp", dir.str());
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_EQ(
      r.output.rfind("priorlab: error: --only prior=vhp: axis 'prior' has no value 'vhp' (values: gaussian, bad)", 0),
      0u)
      << r.output;
  EXPECT_FALSE(fs::exists(dir.path() / "out"));
}

TEST(Sweep, RunsEveryCombinationThenASecondInvocationStartsNothing) {
  test::TempDir dir;
  const json axes = json::parse(R"([{"path": "/scheduler", "values": [{"plugin": "constant"},
                                    {"name": "warm", "value": {"plugin": "warmup", "options": {"epochs": 1}}}]}])");
  const auto sweep = write_sweep(dir, small_sweep(axes, {0, 1}));
  const auto first = test::run_cli("sweep " + sweep + " --out out --jobs 2", dir.str());
  ASSERT_EQ(first.exit_code, 0) << first.output;
  EXPECT_NE(
      first.output.find("sweep tiny: 4 runs (0 already completed, 4 to run), 2 at a time, 1 thread(s) each -> out"),
      std::string::npos)
      << first.output;
  EXPECT_EQ(count(first.output, "] start "), 4u) << first.output;
  EXPECT_EQ(count(first.output, "] done "), 4u) << first.output;
  EXPECT_NE(first.output.find("(sweep elapsed "), std::string::npos);
  const auto out = dir.path() / "out";
  for (const char* name :
       {"scheduler=constant,seed=0", "scheduler=constant,seed=1", "scheduler=warm,seed=0", "scheduler=warm,seed=1"}) {
    EXPECT_EQ(read_json(out / name / "run.json")["status"], "completed") << name;
    EXPECT_TRUE(fs::exists(out / name / "report.html")) << name;
    // The jobs' share of the cores went into their pipelines.
    EXPECT_EQ(read_json(out / name / "config.json")["training"]["threads"],
              std::max(1L, ::sysconf(_SC_NPROCESSORS_ONLN) / 2))
        << name;
    EXPECT_EQ(read_json(out / name / "config.json")["name"], name);
  }
  const json status = read_json(out / "status.json");
  EXPECT_EQ(status["counts"], json({{"completed", 4}}));
  for (const char* f : {"sweep.json", "comparison.md", "comparison.csv", "report.html"})
    EXPECT_TRUE(fs::exists(out / f)) << f;
  const auto table = test::run_cli("compare out", dir.str());
  EXPECT_NE(table.output.find("| scheduler | n |"), std::string::npos) << table.output;
  EXPECT_NE(table.output.find("| warm | 2 |"), std::string::npos) << table.output;

  const auto summary_time = fs::last_write_time(out / "scheduler=warm,seed=1" / "summary.json");
  const auto second = test::run_cli("sweep " + sweep + " --out out --jobs 2", dir.str());
  ASSERT_EQ(second.exit_code, 0) << second.output;
  EXPECT_NE(second.output.find("4 runs (4 already completed, 0 to run)"), std::string::npos) << second.output;
  EXPECT_EQ(count(second.output, "] start "), 0u) << second.output;
  EXPECT_EQ(fs::last_write_time(out / "scheduler=warm,seed=1" / "summary.json"), summary_time);
  EXPECT_TRUE(read_json(out / "status.json")["runs"][0]["skipped"].get<bool>());
  const auto dry = test::run_cli("sweep " + sweep + " --out out --dry-run", dir.str());
  EXPECT_EQ(dry.exit_code, 0) << dry.output;
  EXPECT_EQ(count(dry.output, "skip (completed)"), 4u) << dry.output;
  // The description is prose: a run whose config.json words it otherwise (one written before the
  // sweep composed descriptions) still holds the sweep's run.
  const auto config = out / "scheduler=warm,seed=1" / "config.json";
  json c = read_json(config);
  EXPECT_NE(c["description"].get<std::string>().find("Run scheduler=warm,seed=1 of sweep tiny"), std::string::npos);
  c["description"] = "written by an older build";
  test::write_text(config, c.dump(2));
  const auto reworded = test::run_cli("sweep " + sweep + " --out out --dry-run", dir.str());
  EXPECT_EQ(count(reworded.output, "skip (completed)"), 4u) << reworded.output;

  // The same folder with a different pipeline is refused (exit 2), unless --force.
  const auto changed = test::run_cli("sweep " + sweep + " --out out --set training.iterations=31", dir.str());
  EXPECT_EQ(changed.exit_code, 2) << changed.output;
  EXPECT_NE(changed.output.find("holds a different pipeline (/training/iterations: 30 in the run, 31 in the sweep)"),
            std::string::npos)
      << changed.output;
}

TEST(Sweep, DryRunReadsTheDatasetsAsValidateDoes) {
  // A batch larger than the training split: validate refuses it after reading the dataset, and so
  // does sweep --dry-run, naming the run, before anything is written.
  test::TempDir dir;
  const json axes = json::parse(R"([{"name": "batch", "path": "/training/batch_size",
                                     "values": [{"name": "small", "value": 8}, {"name": "huge", "value": 100000}]}])");
  const std::string sweep = write_sweep(dir, small_sweep(axes, {0}));
  const auto dry = test::run_cli("sweep " + sweep + " --out out --dry-run", dir.str());
  EXPECT_EQ(dry.exit_code, 2) << dry.output;
  EXPECT_NE(dry.output.find("priorlab: error: s.json: run batch=huge,seed=0: /training/batch_size: batch size 100000 "
                            "exceeds the "),
            std::string::npos)
      << dry.output;
  EXPECT_FALSE(fs::exists(dir.path() / "out"));
  // The same runs without the huge batch pass.
  const auto fine = test::run_cli("sweep " + sweep + " --out out --dry-run --only batch=small", dir.str());
  EXPECT_EQ(fine.exit_code, 0) << fine.output;
  EXPECT_EQ(count(fine.output, "  run "), 1u) << fine.output;
}

TEST(Sweep, AMetricOfTheSweepFileThatNoRunReportsDoesNotFailTheComparison) {
  // beta_one_step is absent from every summary where no beta came within 1e-3 of 1: the pendulum
  // grid of issue 12 lost its comparison table at the end of 87 minutes this way.
  test::TempDir dir;
  const json axes = json::parse(R"([{"path": "/scheduler", "values": [{"plugin": "constant", "options": {"beta": 0.5}}]}])");
  json s = small_sweep(axes, {0});
  s["metrics"] = {"reconstruction.elbo", "training_curves.beta_one_step"};
  const auto sweep = write_sweep(dir, s);
  const auto r = test::run_cli("sweep " + sweep + " --out out", dir.str());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output.find("error"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("reconstruction.elbo"), std::string::npos) << r.output;
  EXPECT_TRUE(fs::exists(dir.path() / "out" / "comparison.md"));
  EXPECT_EQ(test::run_cli("compare out", dir.str()).exit_code, 0);
  // Asked for by name, a metric no run reports is still an error.
  const auto asked = test::run_cli("compare out --metrics training_curves.beta_one_step", dir.str());
  EXPECT_EQ(asked.exit_code, 2) << asked.output;
}

TEST(Sweep, AFailedRunIsRecordedAndDoesNotStopTheOthers) {
  test::TempDir dir;
  const json axes = json::parse(R"([{"path": "/objective", "values": [
      {"name": "nan", "value": {"plugin": "nan_after", "options": {"after": 5}}}, {"plugin": "elbo"}]}])");
  const auto sweep = write_sweep(dir, small_sweep(axes, {0}));
  const auto r =
      test::run_cli("--plugin-path " PRIORLAB_TEST_PLUGIN_DIR "/good sweep " + sweep + " --out out", dir.str());
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("FAILED objective=nan,seed=0"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("] done   objective=elbo,seed=0"), std::string::npos) << r.output;
  const json status = read_json(dir.path() / "out" / "status.json");
  ASSERT_EQ(status["runs"].size(), 2u);
  EXPECT_EQ(status["runs"][0]["name"], "objective=nan,seed=0");
  EXPECT_EQ(status["runs"][0]["status"], "failed");
  EXPECT_EQ(status["runs"][0]["exit_code"], 1);
  EXPECT_EQ(status["runs"][0]["error"].get<std::string>().rfind("training step 6: non-finite loss nan", 0), 0u)
      << status;
  EXPECT_EQ(status["runs"][1]["status"], "completed");
  EXPECT_EQ(status["counts"], json({{"completed", 1}, {"failed", 1}}));
  // The table holds the completed run and lists the failed one.
  const std::string md = test::run_cli("compare out", dir.str()).output;
  EXPECT_NE(md.find("| elbo | 1 |"), std::string::npos) << md;
  EXPECT_NE(md.find("- objective=nan,seed=0 (failed: training step 6: non-finite loss nan"), std::string::npos) << md;
}

TEST(Sweep, AKilledSweepIsFinishedByTheSameCommand) {
  test::TempDir dir;
  json s = small_sweep(json::array(), {0, 1}, 1000);
  s["base"]["training"]["checkpoint_every"] = 50;
  s["base"]["training"]["threads"] = 1;  // the pipeline's own setting wins over the sweep's share
  const auto sweep = write_sweep(dir, s);
  const std::vector<std::string> args{"sweep", sweep, "--out", "out", "--jobs", "1"};
  const pid_t pid = spawn(dir, args, dir.path() / "first.log");
  ASSERT_TRUE(wait_for(dir.path() / "out" / "seed=0" / "checkpoints" / "step_00000100.pt"));
  ::kill(pid, SIGKILL);  // no chance to tidy up: its run is told by the kernel (SIGTERM) and stops
  int st = 0;
  ::waitpid(pid, &st, 0);
  ASSERT_TRUE(WIFSIGNALED(st));

  const auto r = test::run_cli("sweep " + sweep + " --out out --jobs 1", dir.str());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("2 runs (0 already completed, 2 to run), 1 at a time, threads as the pipeline says"),
            std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("start seed=0 (resuming from its checkpoint at step"), std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("start seed=1  ("), std::string::npos) << r.output;
  std::ifstream log(dir.path() / "out" / "logs" / "seed=0.log");
  const std::string text((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("resuming seed=0 at step"), std::string::npos) << text;
  for (const char* name : {"seed=0", "seed=1"}) {
    EXPECT_EQ(read_json(dir.path() / "out" / name / "run.json")["status"], "completed") << name;
    // metrics.jsonl has every logging step once: the resumed run continued, it did not restart.
    std::ifstream in(dir.path() / "out" / name / "metrics.jsonl");
    std::string line;
    std::int64_t expected = 20;
    while (std::getline(in, line)) {
      EXPECT_EQ(json::parse(line)["step"], expected) << name;
      expected += 20;
    }
    EXPECT_EQ(expected, 1020) << name;
  }
  const auto again = test::run_cli("sweep " + sweep + " --out out --jobs 1", dir.str());
  EXPECT_EQ(again.exit_code, 0) << again.output;
  EXPECT_EQ(count(again.output, "] start "), 0u) << again.output;
}

TEST(Sweep, InterruptStopsTheRunsWithACheckpointAndExits130) {
  test::TempDir dir;
  json s = small_sweep(json::array(), {0}, 100000);
  s["base"]["training"]["threads"] = 1;
  const auto sweep = write_sweep(dir, s);
  const pid_t pid = spawn(dir, {"sweep", sweep, "--out", "out"}, dir.path() / "out.log");
  ASSERT_TRUE(wait_for(dir.path() / "out" / "seed=0" / "metrics.jsonl"));
  ::kill(pid, SIGINT);
  int st = 0;
  ::waitpid(pid, &st, 0);
  ASSERT_TRUE(WIFEXITED(st));
  EXPECT_EQ(WEXITSTATUS(st), 130);
  const json status = read_json(dir.path() / "out" / "status.json");
  EXPECT_EQ(status["runs"][0]["status"], "interrupted");
  const json run = read_json(dir.path() / "out" / "seed=0" / "run.json");
  EXPECT_EQ(run["status"], "interrupted");
  EXPECT_TRUE(fs::exists(dir.path() / "out" / "seed=0" / "checkpoints" /
                         fmt::format("step_{:08d}.pt", run["step"].get<std::int64_t>())));
}

TEST(Sweep, OptionPathsAreJsonPointersOrDottedKeys) {
  json c = {{"evaluators", json::array({{{"plugin", "x"}}})}};
  set_option_path(c, "/training/iterations", 5, "here");
  set_option_path(c, "training.batch_size", 8, "here");
  set_option_path(c, "/evaluators/0/options/limit", 3, "here");
  set_option_path(c, "/odd~1key~0", true, "here");  // RFC 6901 escapes: "odd/key~"
  EXPECT_EQ(c["training"], json({{"iterations", 5}, {"batch_size", 8}}));
  EXPECT_EQ(c["evaluators"][0]["options"]["limit"], 3);
  EXPECT_EQ(c["odd/key~"], true);
  EXPECT_THROW(set_option_path(c, "/evaluators/4/plugin", "y", "here"), Error);
  EXPECT_THROW(set_option_path(c, "/a//b", 1, "here"), Error);
  EXPECT_THROW(set_option_path(c, "/a~2", 1, "here"), Error);
  // --set takes the pointer form too.
  apply_override(c, "/training/iterations=7");
  EXPECT_EQ(c["training"]["iterations"], 7);
}

// Issue 14, sweeps on a cluster: `--emit slurm` writes a job array whose tasks, run here with
// the array variable set by hand, each run their run by the local sweep's rules (run, skip when
// completed, resume when interrupted), side by side in one folder; then the comparison script
// tabulates them, and submit.sh chains the two (checked with a stand-in sbatch).
TEST(Sweep, EmittedSlurmArrayTasksRunBySweepRulesAndTheComparisonFollows) {
  test::TempDir dir;
  json s = small_sweep(json::array(), {0, 1}, 300);
  s["base"]["training"]["checkpoint_every"] = 50;
  const auto sweep = write_sweep(dir, s);
  const auto emitted = test::run_cli("sweep " + sweep + " --out out --emit slurm", dir.str());
  ASSERT_EQ(emitted.exit_code, 0) << emitted.output;
  const auto out = dir.path() / "out";
  EXPECT_NE(emitted.output.find("sweep tiny: 2 runs as a Slurm job array in " + (out / "slurm").string()),
            std::string::npos)
      << emitted.output;
  EXPECT_FALSE(fs::exists(out / "seed=0")) << "emitting runs nothing";
  EXPECT_TRUE(fs::exists(out / "sweep.json"));
  std::ifstream in(out / "slurm" / "array.sbatch");
  const std::string array((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  for (const std::string& line : std::vector<std::string>{"#SBATCH --array=0-1\n", "#SBATCH --job-name=priorlab-tiny\n",
                                 "#SBATCH --cpus-per-task=1\n", "  'seed=0'\n  'seed=1'\n",
                                 "#SBATCH --output=" + (out / "logs").string() + "/slurm-%A_%a.out\n"})
    EXPECT_NE(array.find(line), std::string::npos) << line << " in\n" << array;
  for (const char* f : {"array.sbatch", "compare.sbatch", "submit.sh"})
    EXPECT_NE(fs::status(out / "slurm" / f).permissions() & fs::perms::owner_exec, fs::perms::none) << f;

  // Task 1 first (tasks run in any order), then task 0 interrupted at a checkpoint and run again.
  const auto t1 = test::run_bash("SLURM_ARRAY_TASK_ID=1 bash out/slurm/array.sbatch", dir.str());
  ASSERT_EQ(t1.exit_code, 0) << t1.output;
  EXPECT_NE(t1.output.find("sweep tiny task seed=1: starting"), std::string::npos) << t1.output;
  EXPECT_EQ(read_json(out / "seed=1" / "run.json")["status"], "completed");
  EXPECT_FALSE(fs::exists(out / "seed=0"));
  EXPECT_FALSE(fs::exists(out / "status.json")) << "a task leaves the sweep's own state alone";
  const auto t0 = test::run_bash(
      "SLURM_ARRAY_TASK_ID=0 bash out/slurm/array.sbatch > t0.log 2>&1 & task=$!; "
      "for i in $(seq 2400); do [ -f out/seed=0/checkpoints/step_00000050.pt ] && break; sleep 0.05; done; "
      "kill -TERM $task; wait $task; echo rc=$?",
      dir.str());
  EXPECT_NE(t0.output.find("rc=130"), std::string::npos) << t0.output;
  EXPECT_EQ(read_json(out / "seed=0" / "run.json")["status"], "interrupted");
  const auto again = test::run_bash("SLURM_ARRAY_TASK_ID=0 bash out/slurm/array.sbatch", dir.str());
  ASSERT_EQ(again.exit_code, 0) << again.output;
  EXPECT_NE(again.output.find("sweep tiny task seed=0: resuming from its checkpoint at step"), std::string::npos)
      << again.output;
  EXPECT_EQ(read_json(out / "seed=0" / "run.json")["status"], "completed");
  const auto summary_time = fs::last_write_time(out / "seed=1" / "summary.json");
  const auto skip = test::run_bash("SLURM_ARRAY_TASK_ID=1 bash out/slurm/array.sbatch", dir.str());
  ASSERT_EQ(skip.exit_code, 0) << skip.output;
  EXPECT_NE(skip.output.find("sweep tiny task seed=1: completed already (skipped)"), std::string::npos) << skip.output;
  EXPECT_EQ(fs::last_write_time(out / "seed=1" / "summary.json"), summary_time);
  const auto bad = test::run_bash("SLURM_ARRAY_TASK_ID=2 bash out/slurm/array.sbatch", dir.str());
  EXPECT_EQ(bad.exit_code, 2) << bad.output;
  EXPECT_NE(bad.output.find("task 2: expected 0-1"), std::string::npos) << bad.output;

  const auto compared = test::run_bash("bash out/slurm/compare.sbatch", dir.str());
  ASSERT_EQ(compared.exit_code, 0) << compared.output;
  // A sweep of seeds alone: one row per seed (compare's strip_seed keeps a name it would empty).
  EXPECT_NE(compared.output.find("| 0 | 1 |"), std::string::npos) << compared.output;
  EXPECT_NE(compared.output.find("| 1 | 1 |"), std::string::npos) << compared.output;
  EXPECT_TRUE(fs::exists(out / "comparison.md"));

  // submit.sh: the comparison waits for the whole array (a stand-in sbatch records its calls).
  test::write_text(dir.path() / "bin" / "sbatch",
                   "#!/bin/bash\necho \"$@\" >> \"$(dirname \"$0\")/calls\"\necho \"4242;cluster\"\n");
  fs::permissions(dir.path() / "bin" / "sbatch", fs::perms::owner_all);
  const auto submitted = test::run_bash("PATH=$PWD/bin:$PATH bash out/slurm/submit.sh", dir.str());
  ASSERT_EQ(submitted.exit_code, 0) << submitted.output;
  std::ifstream calls(dir.path() / "bin" / "calls");
  const std::string text((std::istreambuf_iterator<char>(calls)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text, "--parsable " + (out / "slurm" / "array.sbatch").string() + "\n--dependency=afterany:4242 " +
                      (out / "slurm" / "compare.sbatch").string() + "\n");

  // A whole sweep started as one rank of a launch is refused: each rank would run every run.
  const auto ranked = test::run_bash("RANK=0 WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=29999 " +
                                         std::string(PRIORLAB_EXE) + " sweep " + sweep + " --out out",
                                     dir.str());
  EXPECT_EQ(ranked.exit_code, 2) << ranked.output;
  EXPECT_NE(ranked.output.find("started as rank 0 of 2 (torchrun variables): a sweep is one process"),
            std::string::npos)
      << ranked.output;
}
