// Data-parallel training (issue 14, docs/distributed.md): the launch variables, the batch
// split, the noise a shard draws, and a 2-process run over Gloo on loopback against the
// 1-process run of the same pipeline.
#include <gtest/gtest.h>

#include <iostream>

#include "engine/distributed.hpp"
#include "engine/trainer.hpp"
#include "linear_gaussian_vae.hpp"
#include "priorlab/error.hpp"
#include "test_util.hpp"

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
  // The sigmoid mean the drift figures below were measured with (the default became the identity
  // in issue 29: with it, REWO's main phase starts earlier here and the rounding drift at step 400
  // grows to 3.5e-4 in beta; the comparison is about the reduction, not the mean).
  raw["network"]["options"]["decoder_output"] = "sigmoid";
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
// 330). Up to step 100 beta and the loss agree to 1e-5 and 1e-4 relative. Later the drift
// depends on the CPU's kernels (ATEN_CPU_CAPABILITY): at step 400 beta differed by 3.4e-6 with
// AVX2 and by 1.2e-5 with the default kernels, the loss by 1.5e-4; so 1e-4 and 1e-3 there. A
// wrong reduction is far outside that: each rank's own half-batch Ĉ moves beta by percents.
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
  double beta_drift = 0, loss_drift = 0;  // largest relative differences after step 100
  for (size_t i = 0; i < m1.size(); ++i) {
    const auto step = m1[i]["step"].get<std::int64_t>();
    EXPECT_EQ(m1[i]["step"], m2[i]["step"]);
    EXPECT_EQ(m1[i]["phase"], m2[i]["phase"]) << "step " << step;
    phases.insert(m1[i]["phase"].get<std::string>());
    const double b1 = m1[i]["beta"], b2 = m2[i]["beta"];
    const double l1 = m1[i]["loss"], l2 = m2[i]["loss"];
    const double early = step <= 100 ? 1 : 10;
    EXPECT_NEAR(b2, b1, early * 1e-5 * std::abs(b1)) << "step " << step;
    EXPECT_NEAR(l2, l1, early * 1e-4 * std::abs(l1)) << "step " << step;
    if (step > 100)
      beta_drift = std::max(beta_drift, std::abs(b2 - b1) / std::abs(b1)),
      loss_drift = std::max(loss_drift, std::abs(l2 - l1) / std::abs(l1));
  }
  std::cout << "relative drift after step 100: beta " << beta_drift << ", loss " << loss_drift << std::endl;
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

// Issue 14, evaluators that scale: for_each_shard_batch gives each rank a contiguous run of the
// batches one process makes, and seeds every batch by its index, so that the ranks' shares,
// joined in rank order, are the one-process sequence of batches and of draws. Checked in one
// process by setting rank and world by hand, against the plain for_each_batch.
TEST(Distributed, ShardBatchesJoinToTheOneProcessBatchesAndDraws) {
  test::VectorDataset data(torch::arange(0.0, 23.0).unsqueeze(1));
  EvalContext ctx;
  ctx.dataset = &data;
  ctx.seed = 11;
  auto sequence = [&](int rank, int world, std::int64_t limit) {
    ctx.rank = rank;
    ctx.world = world;
    std::vector<double> firsts, draws;
    std::int64_t last_done = 0, seen_total = -1;
    for_each_shard_batch(ctx, Split::Train, limit, 5, [&](const Batch& b, std::int64_t done, std::int64_t total) {
      firsts.push_back(b.x[0][0].item<double>());
      draws.push_back(torch::randn({1}, torch::kDouble).item<double>());
      EXPECT_EQ(done, last_done + b.x.size(0));
      last_done = done;
      seen_total = total;
    });
    if (seen_total >= 0) {
      EXPECT_EQ(last_done, seen_total) << "done counts this rank's examples";
    }
    return std::make_pair(firsts, draws);
  };
  std::vector<double> plain;
  for_each_batch(data, Split::Train, 0, 5, [&](const Batch& b, std::int64_t, std::int64_t) {
    plain.push_back(b.x[0][0].item<double>());
  });
  const auto one = sequence(0, 1, 0);
  EXPECT_EQ(one.first, plain);
  EXPECT_EQ(one.first, (std::vector<double>{0, 5, 10, 15, 20}));
  for (const int world : {2, 3, 5, 7}) {
    std::vector<double> firsts, draws;
    for (int r = 0; r < world; ++r) {
      const auto share = sequence(r, world, 0);
      firsts.insert(firsts.end(), share.first.begin(), share.first.end());
      draws.insert(draws.end(), share.second.begin(), share.second.end());
    }
    EXPECT_EQ(firsts, one.first) << world << " ranks";
    EXPECT_EQ(draws, one.second) << world << " ranks: a batch's draws depend on its index alone";
  }
  // `limit` is applied before the split: the first 12 examples are 3 batches.
  EXPECT_EQ(sequence(0, 2, 12).first, (std::vector<double>{0}));
  EXPECT_EQ(sequence(1, 2, 12).first, (std::vector<double>{5, 10}));
}

// Issue 14: `loglik` on 2 ranks equals `loglik` on 1 (each batch seeded by its index, so the
// same draws for every image), and so do the evaluators built on the SDK's split helpers
// (average_terms: rate_distortion, reconstruction; encode_split: active_units,
// pendulum_angle). The per-example values are computed by the same code on the same batches,
// so they are equal to the bit: the CSV is compared as text. The split-wide means are summed
// in another order, so they are compared to 1e-12 relative. A second loglik has one batch
// only, so that rank 1's share is empty.
TEST(Distributed, EvaluatorsOnTwoRanksGiveTheOneProcessValues) {
  test::TempDir dir;
  json raw = parallel_pipeline();
  raw["training"]["iterations"] = 100;
  raw["evaluators"] = json::parse(R"([
    {"plugin": "loglik", "options": {"samples": 64, "batch_size": 7, "max_elements": 2000}},
    {"plugin": "loglik", "options": {"samples": 16, "batch_size": 100, "limit": 60}},
    {"plugin": "rate_distortion"},
    {"plugin": "reconstruction", "options": {"batch_size": 9, "pictures": 8}},
    {"plugin": "active_units"},
    {"plugin": "pendulum_angle"}
  ])");
  test::write_config(dir, raw);
  const auto trained = test::run_cli("run p.json --out one --name r", dir.str());
  ASSERT_EQ(trained.exit_code, 0) << trained.output;
  const fs::path run = dir.path() / "one/r";
  auto evaluators = [&] { return json::parse(std::ifstream(run / "summary.json"))["evaluators"]; };
  auto csv = [&] {
    std::ifstream in(run / "artefacts/loglik_per_example.csv");
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  const json at_training = evaluators();
  const std::string csv_training = csv();

  const auto single = test::run_cli("evaluate one/r", dir.str());
  ASSERT_EQ(single.exit_code, 0) << single.output;
  const json one = evaluators();
  EXPECT_EQ(one, at_training) << "a checkpoint evaluates to what the trained model did";
  const std::string csv_one = csv();

  const auto two = test::run_cli("evaluate one/r --nproc 2", dir.str());
  ASSERT_EQ(two.exit_code, 0) << two.output;
  EXPECT_NE(two.output.find("2 processes over gloo"), std::string::npos) << two.output;
  EXPECT_NE(two.output.find("eval loglik done in"), std::string::npos) << two.output;
  const json parallel = evaluators();
  EXPECT_EQ(csv(), csv_one) << "per-example log p(x), ELBO, rate and distortion";
  ASSERT_EQ(parallel.size(), one.size());
  for (const auto& [name, metrics] : one.items()) {
    ASSERT_TRUE(parallel.contains(name)) << name;
    for (const auto& [key, value] : metrics.items()) {
      ASSERT_TRUE(parallel[name].contains(key)) << name << "." << key;
      const double a = value, b = parallel[name][key];
      EXPECT_NEAR(b, a, 1e-12 * std::max(1.0, std::abs(a))) << name << "." << key;
    }
  }
  EXPECT_EQ(one["loglik"]["examples"], 100);
  EXPECT_EQ(one["loglik_1"]["examples"], 60);
  EXPECT_TRUE(fs::exists(run / "artefacts/reconstruction.png") || !pictures_enabled());
}
