// The command line as a researcher meets it: every bad input ends with one located line on
// stderr, a non-zero exit code and nothing half-written; a killed run resumes exactly.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>

#include "engine/tensorboard.hpp"
#include "test_util.hpp"

using namespace priorlab;
using test::json;
namespace fs = std::filesystem;

namespace {

// Asserts the failure contract: exit code, exactly one output line, "priorlab: error: " + `expected`
// at its start, and no run directory left behind.
void expect_located_failure(const test::CommandResult& r, int code, const std::string& expected, const fs::path& runs) {
  EXPECT_EQ(r.exit_code, code) << r.output;
  EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << r.output;
  EXPECT_EQ(r.output.rfind("priorlab: error: " + expected, 0), 0u) << r.output;
  EXPECT_TRUE(!fs::exists(runs) || fs::is_empty(runs)) << "something was written under " << runs;
}

}  // namespace

TEST(Cli, PluginsListsEveryKindWithOptions) {
  const auto r = test::run_cli("plugins");
  EXPECT_EQ(r.exit_code, 0);
  for (const char* s : {"dataset:", "network:", "prior:", "objective:", "scheduler:", "evaluator:", "pendulum", "mlp",
                        "gaussian", "elbo", "warmup", "options: size=15000"})
    EXPECT_NE(r.output.find(s), std::string::npos) << s;
}

TEST(Cli, DescribePrintsOptionsAndAPipelineSection) {
  const auto r = test::run_cli("describe warmup");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.output.find("epochs"), std::string::npos);
  EXPECT_NE(r.output.find("\"plugin\": \"warmup\""), std::string::npos);
  const auto bad = test::run_cli("describe warmpu");
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_EQ(bad.output.rfind("priorlab: error: warmpu: no such plugin (available: ", 0), 0u) << bad.output;
}

// Issue 16, case 14: what a new user writing a plugin ran into.
TEST(Cli, Case14_PluginPathTakesOneFolderAndLeavesTheConfigPath) {
  test::TempDir dir;
  const std::string file = test::write_config(dir, test::small_pipeline());
  const std::string good = std::string(PRIORLAB_TEST_PLUGIN_DIR) + "/good";
  // The config after --plugin-path DIR used to be swallowed as a second folder.
  const auto r = test::run_cli("validate --plugin-path " + good + " " + file + " --set training.iterations=7");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("\"iterations\": 7"), std::string::npos) << r.output;
  const auto listed = test::run_cli("plugins --plugin-path " + good);
  EXPECT_NE(listed.output.find("nan_after"), std::string::npos) << listed.output;
}

TEST(Cli, Case14_AMissingOrEmptyPluginPathIsSaid) {
  test::TempDir dir;
  const auto missing = test::run_cli("plugins --plugin-path no-such-dir", dir.str());
  EXPECT_EQ(missing.exit_code, 2) << missing.output;
  EXPECT_NE(missing.output.find("--plugin-path no-such-dir: no such folder"), std::string::npos) << missing.output;
  std::filesystem::create_directories(dir.path() / "empty");
  const auto empty = test::run_cli("plugins --plugin-path empty", dir.str());
  EXPECT_EQ(empty.exit_code, 0) << empty.output;
  EXPECT_NE(empty.output.find("warning: --plugin-path empty: holds no plugin library"), std::string::npos) << empty.output;
}

TEST(Cli, Case14_UnknownNamesSuggestAndPointToThePluginPath) {
  test::TempDir dir;
  const std::string oldabi = std::string(PRIORLAB_TEST_PLUGIN_DIR) + "/bad/oldabi";
  // describe of a plugin whose library was refused names the refusal and the folders searched.
  const auto d = test::run_cli("describe nan_after_old_abi --plugin-path " + oldabi);
  EXPECT_EQ(d.exit_code, 2) << d.output;
  EXPECT_NE(d.output.find("refused libraries: " + oldabi + "/libpriorlab_test_bad_oldabi.so: could not load"),
            std::string::npos)
      << d.output;
  EXPECT_NE(d.output.find("a plugin of your own? pass --plugin-path DIR or set PRIORLAB_PLUGIN_PATH (searched: " + oldabi),
            std::string::npos)
      << d.output;
  EXPECT_NE(test::run_cli("describe warmpu").output.find("did you mean 'warmup'?"), std::string::npos);
  json c = test::small_pipeline();
  c["prior"]["plugin"] = "vhpp";
  auto r = test::run_cli("validate " + test::write_config(dir, c), dir.str());
  EXPECT_NE(r.output.find("unknown prior 'vhpp'"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("did you mean 'vhp'?"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("a plugin of your own? pass --plugin-path DIR"), std::string::npos) << r.output;
  c = test::small_pipeline();
  c["trainig"] = json::object();
  r = test::run_cli("validate " + test::write_config(dir, c), dir.str());
  EXPECT_NE(r.output.find("/trainig: unknown key 'trainig'"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("did you mean 'training'?"), std::string::npos) << r.output;
  c = test::small_pipeline();
  c["network"]["options"]["latent_dimm"] = 2;
  r = test::run_cli("validate " + test::write_config(dir, c), dir.str());
  EXPECT_NE(r.output.find("did you mean 'latent_dim'?"), std::string::npos) << r.output;
}

TEST(Cli, ValidatePrintsTheResolvedPipeline) {
  test::TempDir dir;
  const auto r = test::run_cli("validate " + test::write_config(dir, test::small_pipeline()) + " --set training.iterations=7");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const json resolved = json::parse(r.output);
  EXPECT_EQ(resolved["training"]["iterations"], 7);
  EXPECT_EQ(resolved["objective"]["plugin"], "elbo");
}

TEST(Cli, MissingConfigFile) {
  test::TempDir dir;
  expect_located_failure(test::run_cli("run nothere.json --out runs", dir.str()), 2, "nothere.json: no such file",
                         dir.path() / "runs");
}

TEST(Cli, MalformedJsonGivesFileLineColumn) {
  test::TempDir dir;
  test::write_text(dir.path() / "p.json", "{\n  \"seed\": 1\n  \"device\": \"cpu\"\n}\n");
  expect_located_failure(test::run_cli("run p.json --out runs", dir.str()), 2, "p.json:3:10: malformed JSON",
                         dir.path() / "runs");
}

TEST(Cli, UnknownPlugin) {
  test::TempDir dir;
  json c = test::small_pipeline();
  c["prior"]["plugin"] = "vampprior_typo";
  expect_located_failure(test::run_cli("run " + test::write_config(dir, c) + " --out runs", dir.str()), 2,
                         test::write_config(dir, c) + ": /prior/plugin: unknown prior 'vampprior_typo'", dir.path() / "runs");
}

TEST(Cli, UnknownKeyWrongTypeAndOutOfRangeOption) {
  test::TempDir dir;
  const auto path = test::write_config(dir, test::small_pipeline());
  expect_located_failure(test::run_cli("run " + path + " --out runs --set network.options.hiden=[3]", dir.str()), 2,
                         path + " (value from --set network.options.hiden=[3]): /network/options/hiden: unknown option 'hiden'",
                         dir.path() / "runs");
  expect_located_failure(test::run_cli("run " + path + " --out runs --set scheduler.options.epochs=soon", dir.str()), 2,
                         path + " (value from --set scheduler.options.epochs=soon): /scheduler/options/epochs: expected number > 0, "
                                "found string \"soon\"",
                         dir.path() / "runs");
  expect_located_failure(test::run_cli("run " + path + " --out runs --set training.learning_rate=-1", dir.str()), 2,
                         path + " (value from --set training.learning_rate=-1): /training/learning_rate: expected number > 0, "
                                "found number -1",
                         dir.path() / "runs");
}

TEST(Cli, PluginBuiltForAnotherAbiIsRefusedWithBothVersions) {
  test::TempDir dir;
  json c = test::small_pipeline();
  c["objective"]["plugin"] = "nan_after_abi99";
  const auto r = test::run_cli("--plugin-path " PRIORLAB_TEST_PLUGIN_DIR "/bad/abi run " + test::write_config(dir, c) + " --out runs",
                               dir.str());
  expect_located_failure(r, 2, test::write_config(dir, c) + ": /objective/plugin: unknown objective 'nan_after_abi99'",
                         dir.path() / "runs");
  EXPECT_NE(r.output.find("built for plugin ABI 99, this host speaks ABI " + std::to_string(PRIORLAB_ABI_VERSION)), std::string::npos) << r.output;
}

TEST(Cli, NanLossStopsWithTheStepAndLeavesOnlyWholeFiles) {
  test::TempDir dir;
  json c = test::small_pipeline(100);
  c["objective"] = {{"plugin", "nan_after"}, {"options", {{"after", 60}}}};
  const auto r = test::run_cli(
      "--plugin-path " PRIORLAB_TEST_PLUGIN_DIR "/good run " + test::write_config(dir, c) + " --out runs", dir.str());
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("priorlab: error: training step 61: non-finite loss nan"), std::string::npos) << r.output;
  const auto run = dir.path() / "runs" / "small";
  const json status = json::parse(std::ifstream(run / "run.json"));
  EXPECT_EQ(status["status"], "failed");
  EXPECT_EQ(status["step"], 60);
  // Only whole files: the checkpoint at 50 (every 50 steps), no temporaries, no summary; the
  // report shows the failure; the TensorBoard file (tests/tensorboard_test.py decodes it whole).
  std::vector<std::string> files;
  for (const auto& e : fs::recursive_directory_iterator(run))
    if (e.is_regular_file()) {
      const std::string f = fs::relative(e.path(), run).string();
      files.push_back(f.rfind("tensorboard/events.out.tfevents.", 0) == 0 ? "tensorboard/events.out.tfevents.*" : f);
    }
  std::sort(files.begin(), files.end());
  std::vector<std::string> want{".lock", "checkpoints/step_00000050.pt", "checkpoints/step_00000050.pt.sum",
                                "config.json", "metrics.jsonl", "report.html", "run.json"};
  if (host::tensorboard_enabled()) want.push_back("tensorboard/events.out.tfevents.*");
  EXPECT_EQ(files, want);
  EXPECT_FALSE(test::checkpoint_network_tensors(run / "checkpoints" / "step_00000050.pt").empty());
}

TEST(Cli, ExistingRunDirectoryIsNotOverwrittenWithoutForce) {
  test::TempDir dir;
  fs::create_directories(dir.path() / "runs" / "small");
  const auto r = test::run_cli("run " + test::write_config(dir, test::small_pipeline(5)) + " --out runs", dir.str());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("run directory already exists; pass --force"), std::string::npos) << r.output;
}

TEST(Cli, RunWritesTheRunDirectoryAndPrintsMetrics) {
  test::TempDir dir;
  json c = test::small_pipeline(60);
  c["evaluators"].push_back({{"plugin", "latent_plot"}, {"options", {{"points", 50}, {"prior_samples", 50}}}});
  const auto r = test::run_cli("run " + test::write_config(dir, c) + " --out runs", dir.str());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto run = dir.path() / "runs" / "small";
  for (const char* f : {"config.json", "run.json", "metrics.jsonl", "summary.json", "checkpoints/step_00000060.pt"})
    EXPECT_TRUE(fs::exists(run / f)) << f;
  test::expect_picture(run / "artefacts/reconstruction.png");
  test::expect_picture(run / "artefacts/latent.png");
  const json summary = json::parse(std::ifstream(run / "summary.json"));
  EXPECT_EQ(summary["status"], "completed");
  EXPECT_EQ(summary["steps"], 60);
  EXPECT_TRUE(summary["evaluators"]["reconstruction"].contains("elbo"));
  EXPECT_NE(r.output.find("run small completed: 60 steps"), std::string::npos) << r.output;
  if (PRIORLAB_WITH_OPENCV)
    EXPECT_NE(r.output.find("picture: runs/small/artefacts/latent.png"), std::string::npos) << r.output;
  else  // said once per run, before the evaluators
    EXPECT_NE(r.output.find("pictures: none are written: this build has no OpenCV"), std::string::npos) << r.output;
  // The resolved config has every default, and resolves to itself.
  const json config = json::parse(std::ifstream(run / "config.json"));
  EXPECT_EQ(config["network"]["options"]["activation"], "relu");
}

TEST(Cli, KilledRunResumesToTheSameFinalParameters) {
  test::TempDir dir;
  json c = test::small_pipeline(3000);
  c["training"]["checkpoint_every"] = 100;
  c["evaluators"] = json::array();
  const auto path = test::write_config(dir, c);

  // Uninterrupted reference.
  ASSERT_EQ(test::run_cli("run " + path + " --out runs --name whole", dir.str()).exit_code, 0);

  // Started in the background and killed with SIGKILL once its second checkpoint exists.
  const auto killed = dir.path() / "runs" / "killed";
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::chdir(dir.str().c_str());
    const int devnull = ::open("/dev/null", O_WRONLY);
    ::dup2(devnull, 1);
    ::execl(PRIORLAB_EXE, PRIORLAB_EXE, "run", path.c_str(), "--out", "runs", "--name", "killed", nullptr);
    ::_exit(127);
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (!fs::exists(killed / "checkpoints" / "step_00000200.pt") && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status)) << "the run finished before it could be killed";
  const json before = json::parse(std::ifstream(killed / "run.json"));
  EXPECT_EQ(before["status"], "running");

  const auto r = test::run_cli("resume runs/killed", dir.str());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("resuming killed at step"), std::string::npos) << r.output;
  const auto a = test::checkpoint_network_tensors(dir.path() / "runs" / "whole" / "checkpoints" / "step_00003000.pt");
  const auto b = test::checkpoint_network_tensors(killed / "checkpoints" / "step_00003000.pt");
  ASSERT_EQ(a.size(), b.size());
  ASSERT_FALSE(a.empty());
  for (const auto& [k, t] : a) EXPECT_TRUE(torch::equal(t, b.at(k))) << k;
}

TEST(Cli, InterruptWritesACheckpointAndSaysHowToResume) {
  test::TempDir dir;
  json c = test::small_pipeline(100000);
  c["training"]["checkpoint_every"] = 0;
  const auto path = test::write_config(dir, c);
  const auto out = dir.path() / "out.txt";
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::chdir(dir.str().c_str());
    const int fd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    ::execl(PRIORLAB_EXE, PRIORLAB_EXE, "run", path.c_str(), "--out", "runs", nullptr);
    ::_exit(127);
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (!fs::exists(dir.path() / "runs" / "small" / "metrics.jsonl") && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ::kill(pid, SIGINT);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 130);
  std::ifstream in(out);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("continue with: priorlab resume runs/small"), std::string::npos) << text;
  const json st = json::parse(std::ifstream(dir.path() / "runs" / "small" / "run.json"));
  EXPECT_EQ(st["status"], "interrupted");
  EXPECT_TRUE(fs::exists(dir.path() / "runs" / "small" / "checkpoints" /
                         fmt::format("step_{:08d}.pt", st["step"].get<int64_t>())));
}

TEST(Cli, UsageErrorsExitWithTwoAndGlobalOptionsMayFollowTheSubcommand) {
  EXPECT_EQ(test::run_cli("run").exit_code, 2);                // missing CONFIG
  EXPECT_EQ(test::run_cli("frobnicate").exit_code, 2);         // unknown subcommand
  EXPECT_EQ(test::run_cli("--help").exit_code, 0);
  const auto r = test::run_cli("plugins --plugin-path " PRIORLAB_TEST_PLUGIN_DIR "/good");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("nan_after"), std::string::npos) << r.output;
}

TEST(Cli, DescribeOfAPluginWithoutOptionsStillPrintsItsSection) {
  const auto r = test::run_cli("describe elbo");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.output.find("options: none"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("\"plugin\": \"elbo\""), std::string::npos) << r.output;
}

TEST(Cli, ResumeRefusesChangesThatWouldBreakItsCheckpoints) {
  test::TempDir dir;
  ASSERT_EQ(test::run_cli("run " + test::write_config(dir, test::small_pipeline(20)) + " --out runs", dir.str()).exit_code, 0);
  const auto r = test::run_cli("resume runs/small --set training.batch_size=8", dir.str());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.output.rfind("priorlab: error: --set training.batch_size=8: resume may only change", 0), 0u) << r.output;
  // The message names every option the check accepts (it named five of the eight before).
  EXPECT_NE(r.output.find("may only change training.iterations, log_every, checkpoint_every, keep_checkpoints, threads, "
                          "diagnostics_examples, active_threshold and collapse_patience (the rest must match"),
            std::string::npos)
      << r.output;
  const auto more = test::run_cli("resume runs/small --set training.iterations=40", dir.str());
  EXPECT_EQ(more.exit_code, 0) << more.output;
  EXPECT_NE(more.output.find("resuming small at step 20 of 40"), std::string::npos) << more.output;
}
