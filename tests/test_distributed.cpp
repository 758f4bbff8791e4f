// Data-parallel training (issue 14, docs/distributed.md): the launch variables, the batch
// split, the noise a shard draws, and a 2-process run over Gloo on loopback against the
// 1-process run of the same pipeline.
#include <gtest/gtest.h>

#include "distributed.hpp"
#include "priorlab/error.hpp"
#include "test_util.hpp"
#include "trainer.hpp"

using namespace priorlab;
using namespace priorlab::host;
using test::json;
namespace fs = std::filesystem;

TEST(Distributed, TorchrunVariablesMakeALaunch) {
  const std::map<std::string, std::string> env = {
      {"RANK", "3"}, {"WORLD_SIZE", "4"}, {"LOCAL_RANK", "1"}, {"MASTER_ADDR", "10.0.0.7"}, {"MASTER_PORT", "29511"}};
  const auto l = launch_from_environment(&env);
  ASSERT_TRUE(l.has_value());
  EXPECT_EQ(l->rank, 3);
  EXPECT_EQ(l->world, 4);
  EXPECT_EQ(l->local_rank, 1);
  EXPECT_EQ(l->master_addr, "10.0.0.7");
  EXPECT_EQ(l->master_port, 29511);
  EXPECT_EQ(l->source, "torchrun");
  const std::map<std::string, std::string> none = {{"HOME", "/root"}};
  EXPECT_FALSE(launch_from_environment(&none).has_value());
}

TEST(Distributed, SlurmVariablesMakeALaunchWithTheFirstNodeAsMaster) {
  const std::map<std::string, std::string> env = {{"SLURM_PROCID", "5"},
                                                  {"SLURM_NTASKS", "16"},
                                                  {"SLURM_STEP_NUM_TASKS", "8"},
                                                  {"SLURM_LOCALID", "1"},
                                                  {"SLURM_JOB_NODELIST", "gpu[07-10,12],login1"}};
  const auto l = launch_from_environment(&env);
  ASSERT_TRUE(l.has_value());
  EXPECT_EQ(l->source, "slurm");
  EXPECT_EQ(l->rank, 5);
  EXPECT_EQ(l->world, 8);
  EXPECT_EQ(l->local_rank, 1);
  EXPECT_EQ(l->master_addr, "gpu07");
  EXPECT_EQ(l->master_port, 29500);
  // A batch script's own environment (no srun step) is one process, whatever the job's tasks.
  const std::map<std::string, std::string> batch = {{"SLURM_PROCID", "0"}, {"SLURM_NTASKS", "16"}};
  EXPECT_FALSE(launch_from_environment(&batch).has_value());
  EXPECT_EQ(first_slurm_host("node1,node2"), "node1");
  EXPECT_EQ(first_slurm_host("a[3]"), "a3");
  EXPECT_EQ(first_slurm_host("rack[2-4]-n[01-02]"), "rack2-n[01-02]");  // the first bracket only
}

TEST(Distributed, AnIncompleteOrWrongLaunchNamesTheVariable) {
  const auto message = [](const std::map<std::string, std::string>& env) {
    try {
      launch_from_environment(&env);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message({{"RANK", "0"}}).find("WORLD_SIZE"), std::string::npos);
  EXPECT_NE(message({{"RANK", "2"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "h"}, {"MASTER_PORT", "1"}}).find("RANK: expected an integer in [0, 1], found \"2\""),
            std::string::npos);
  EXPECT_NE(message({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"MASTER_PORT", "1"}}).find("MASTER_ADDR"), std::string::npos);
  EXPECT_NE(message({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "h"}, {"MASTER_PORT", "x"}}).find("MASTER_PORT"),
            std::string::npos);
}

TEST(Distributed, ShardsSplitTheBatchInOrderAndAsEvenlyAsIntegersAllow) {
  for (const std::int64_t batch : {1, 7, 32, 64, 100})
    for (const int world : {1, 2, 3, 4, 7}) {
      if (batch < world) continue;
      std::int64_t next = 0;
      for (int r = 0; r < world; ++r) {
        const BatchShard s = shard_of(batch, r, world);
        EXPECT_EQ(s.offset, next) << batch << "/" << world;
        EXPECT_EQ(s.global, batch);
        EXPECT_TRUE(s.size == batch / world || s.size == batch / world + 1) << batch << "/" << world;
        next += s.size;
      }
      EXPECT_EQ(next, batch);
    }
}

// The noise of a shard is the global batch's, rows [offset, offset + size): what one process
// draws with the same generator state, with and without a sample dimension.
TEST(Distributed, AShardDrawsItsRowsOfTheOneProcessNoise) {
  const auto mu = torch::randn({6, 3}), logvar = torch::randn({6, 3}) * 0.1;
  for (const std::int64_t samples : {0, 4}) {
    torch::manual_seed(11);
    const auto whole = sample_diag_gaussian({mu, logvar}, samples);
    const std::int64_t batch_dim = samples > 0 ? 1 : 0;
    for (int r = 0; r < 2; ++r) {
      const BatchShard shard = shard_of(6, r, 2);
      torch::manual_seed(11);
      const BatchShardScope scope(shard);
      const auto part = sample_diag_gaussian({mu.narrow(0, shard.offset, shard.size), logvar.narrow(0, shard.offset, shard.size)},
                                             samples);
      EXPECT_TRUE(torch::equal(part, whole.narrow(batch_dim, shard.offset, shard.size))) << "samples " << samples << " rank " << r;
    }
    EXPECT_FALSE(current_batch_shard().active());
  }
}

namespace {

// A shortened pendulum VHP + REWO pipeline whose initial phase ends inside the run.
json parallel_pipeline() {
  json raw = test::small_pipeline(400);
  raw["prior"] = {{"plugin", "vhp"}, {"options", {{"samples", 4}, {"hidden", {32}}}}};
  raw["scheduler"] = {{"plugin", "rewo"}, {"options", {{"measure", "squared_error"}, {"threshold", 0.02}}}};
  raw["training"]["learning_rate"] = 3e-3;
  raw["training"]["log_every"] = 20;
  raw["training"]["checkpoint_every"] = 100;
  raw["training"]["keep_checkpoints"] = 4;
  raw["training"]["threads"] = 1;
  raw["evaluators"] = json::array();
  raw["tensorboard"] = false;
  raw["device"] = "cpu";
  raw["distributed"] = {{"timeout_s", 60}};
  return raw;
}

// The parameters of a run's newest checkpoint, or of the one of step `step`.
std::map<std::string, torch::Tensor> final_parameters(const fs::path& run, std::int64_t step = -1) {
  const json config = json::parse(std::ifstream(run / "config.json"));
  Pipeline p = build_pipeline(test::registry(), config);
  Trainer t(p, run.string(), false);
  if (step < 0) t.restore_latest();
  else t.load_checkpoint((run / "checkpoints" / fmt::format("step_{:08d}.pt", step)).string());
  return test::parameters_of(p);
}

std::vector<std::string> listing(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::recursive_directory_iterator(dir)) names.push_back(fs::relative(e.path(), dir).string());
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace

// The tolerance: the two processes add their halves of each batch sum separately and then
// together, one process adds it in one pass, so each step's statistics and gradients differ in
// the last float digits. After 100 Adam steps the parameters agree to 1e-6 absolute (measured:
// 7e-8) while they have moved by more than 0.05 (checked). Later the differences grow as
// rounding does in any long run (Adam scales tiny gradients up to a step of lr): 1.6e-4 at
// step 400, after REWO's switch, so the parameters are compared at step 100. The scheduler's
// course is compared over the whole run: REWO's phase follows Ĉ against the threshold, which
// no rounding flips here, so the phase sequence is identical (the initial phase ends near step
// 330), and beta and the loss agree to 1e-5 and 1e-4 relative at every logged step (measured:
// 3.4e-6 for beta at step 400).
TEST(Distributed, TwoProcessRunMatchesTheOneProcessRun) {
  test::TempDir dir;
  test::write_config(dir, parallel_pipeline());
  const auto one = test::run_cli("run p.json --out one --name r", dir.str());
  ASSERT_EQ(one.exit_code, 0) << one.output;
  const auto two = test::run_cli("run p.json --out two --name r --nproc 2", dir.str());
  ASSERT_EQ(two.exit_code, 0) << two.output;
  EXPECT_NE(two.output.find("2 processes over gloo"), std::string::npos) << two.output;

  const auto m1 = test::read_metrics(dir.path() / "one/r/metrics.jsonl");
  const auto m2 = test::read_metrics(dir.path() / "two/r/metrics.jsonl");
  ASSERT_EQ(m1.size(), 20u);
  ASSERT_EQ(m1.size(), m2.size()) << "one writer: no line twice";
  std::set<std::string> phases;
  for (size_t i = 0; i < m1.size(); ++i) {
    EXPECT_EQ(m1[i]["step"], m2[i]["step"]);
    EXPECT_EQ(m1[i]["phase"], m2[i]["phase"]) << "step " << m1[i]["step"];
    phases.insert(m1[i]["phase"].get<std::string>());
    const double b1 = m1[i]["beta"], b2 = m2[i]["beta"];
    EXPECT_NEAR(b2, b1, 1e-5 * std::abs(b1)) << "step " << m1[i]["step"];
    EXPECT_NEAR(m2[i]["loss"].get<double>(), m1[i]["loss"].get<double>(), 1e-4 * std::abs(m1[i]["loss"].get<double>()));
  }
  EXPECT_EQ(phases.size(), 2u) << "the initial phase should end inside the run";

  const auto p1 = final_parameters(dir.path() / "one/r", 100), p2 = final_parameters(dir.path() / "two/r", 100);
  Pipeline init = build_pipeline(test::registry(), json::parse(std::ifstream(dir.path() / "one/r/config.json")));
  const auto p0 = test::parameters_of(init);
  ASSERT_EQ(p1.size(), p2.size());
  double moved = 0;
  for (const auto& [name, t] : p1) {
    moved = std::max(moved, (t - p0.at(name)).abs().max().item<double>());
    EXPECT_TRUE(torch::allclose(p2.at(name), t, 0, 1e-6))
        << name << ": max |diff| " << (p2.at(name) - t).abs().max().item<double>();
  }
  EXPECT_GT(moved, 0.05);
  // Rank 0 alone wrote the folder: the same files as the one-process run's.
  EXPECT_EQ(listing(dir.path() / "one/r"), listing(dir.path() / "two/r"));
}

namespace {

// Starts `run p.json --out OUT --name r --nproc 2` in the background, waits until rank 0 has
// logged `lines` records, SIGKILLs what `kill` names ("ranks": both ranks and the launcher;
// "rank1": rank 1 alone), waits for the launcher and prints "rc=N waited=S".
test::CommandResult start_and_kill(const test::TempDir& dir, const std::string& out, int lines, const std::string& kill) {
  const std::string script = std::string(PRIORLAB_EXE) + " run p.json --out " + out + " --name r --nproc 2 > " + out +
                             ".log 2>&1 & parent=$!; m=" + out + "/r/metrics.jsonl; "
                             "for i in $(seq 1200); do [ -f $m ] && [ $(wc -l < $m) -ge " + std::to_string(lines) +
                             " ] && break; sleep 0.05; done; "
                             "for c in $(pgrep -P $parent); do "
                             "  if [ " + (kill == "ranks" ? std::string("1 = 1") : std::string("1 = 0")) +
                             " ] || tr \"\\0\" \"\\n\" < /proc/$c/environ | grep -qx RANK=1; then kill -9 $c; fi; done; " +
                             (kill == "ranks" ? "kill -9 $parent; " : "") +
                             "start=$SECONDS; wait $parent; rc=$?; echo rc=$rc waited=$((SECONDS-start)); cat " + out + ".log";
  return test::run_bash(script, dir.str());
}

}  // namespace

// Issue 14, faults: a 2-process run SIGKILLed whole, and one whose rank 1 alone is SIGKILLed,
// both resume (`resume --nproc 2`) to exactly the parameters of the uninterrupted 2-process
// run: the same world size splits every batch the same way. The surviving rank exits non-zero
// well within the timeout, names rank 1, and rank 0 marks the run failed.
TEST(Distributed, KilledRunsResumeToTheUninterruptedResult) {
  test::TempDir dir;
  json raw = parallel_pipeline();
  raw["distributed"]["timeout_s"] = 30;
  test::write_config(dir, raw);
  const auto ref = test::run_cli("run p.json --out ref --name r --nproc 2", dir.str());
  ASSERT_EQ(ref.exit_code, 0) << ref.output;
  const auto expected = final_parameters(dir.path() / "ref/r");

  const auto whole = start_and_kill(dir, "whole", 8, "ranks");
  EXPECT_NE(whole.output.find("rc=137"), std::string::npos) << whole.output;
  const auto r1 = test::run_cli("resume whole/r --nproc 2", dir.str());
  ASSERT_EQ(r1.exit_code, 0) << whole.output << r1.output;
  EXPECT_NE(r1.output.find("resuming r at step"), std::string::npos) << r1.output;

  const auto one = start_and_kill(dir, "one", 8, "rank1");
  EXPECT_EQ(one.output.find("rc=0 "), std::string::npos) << one.output;
  EXPECT_NE(one.output.find("rank 1 stopped responding"), std::string::npos) << one.output;
  const auto waited = std::stoi(one.output.substr(one.output.find("waited=") + 7));
  EXPECT_LT(waited, 30) << one.output;
  const json status = json::parse(std::ifstream(dir.path() / "one/r/run.json"));
  EXPECT_EQ(status["status"], "failed") << status.dump();
  const auto r2 = test::run_cli("resume one/r --nproc 2", dir.str());
  ASSERT_EQ(r2.exit_code, 0) << one.output << r2.output;

  for (const char* run : {"whole/r", "one/r"}) {
    const auto got = final_parameters(dir.path() / run);
    for (const auto& [name, t] : expected)
      EXPECT_TRUE(torch::equal(got.at(name), t)) << run << " " << name << ": max |diff| "
                                                 << (got.at(name) - t).abs().max().item<double>();
  }
}
