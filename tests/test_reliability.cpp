// Issue 16's numbered cases, each named for its number: what a run folder must refuse (another
// model's checkpoint, an edited config.json, a second writer, a shortened run), what it must
// survive (a flipped byte, a damaged metrics line, a failed checkpoint write, temporaries of
// killed writes), what it must say (a thread count that breaks bit-identity), and input that
// must be a located error, never a crash or a hang (cases 9 to 12). Case 6 is in
// test_features_csv.cpp, case 8 in test_plugin_loading.cpp.
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <set>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "pipeline/pipeline.hpp"
#include "pipeline/safety.hpp"
#include "test_util.hpp"

using namespace priorlab;
using test::json;
namespace fs = std::filesystem;

namespace {

/// small_pipeline with checkpoints every 50 steps, logs every 20, one thread.
json pipeline(std::int64_t iterations = 100) {
  json c = test::small_pipeline(iterations);
  c["training"]["checkpoint_every"] = 50;
  c["training"]["log_every"] = 20;
  c["training"]["threads"] = 1;
  c["evaluators"] = json::array();
  return c;
}

/// Runs pipeline() to its end as runs/small in dir.
test::CommandResult run_small(const test::TempDir& dir) {
  return test::run_cli("run " + test::write_config(dir, pipeline()) + " --out runs", dir.str());
}

std::vector<std::int64_t> metric_steps(const fs::path& run) {
  std::vector<std::int64_t> steps;
  std::ifstream in(run / "metrics.jsonl");
  std::string line;
  while (std::getline(in, line)) steps.push_back(json::parse(line).at("step"));
  return steps;
}

}  // namespace

TEST(Reliability, Case1_CheckpointOfAnotherModelIsRefused) {
  // A latent_dim = 3 checkpoint copied over the newest one of a latent_dim = 2 run.
  test::TempDir dir;
  json other = pipeline();
  other["network"]["options"]["latent_dim"] = 3;
  ASSERT_EQ(test::run_cli("run " + test::write_config(dir, pipeline()) + " --out runs --name two", dir.str()).exit_code, 0);
  ASSERT_EQ(test::run_cli("run " + test::write_config(dir, other, "q.json") + " --out runs --name three", dir.str()).exit_code, 0);
  for (const char* file : {"step_00000100.pt", "step_00000100.pt.sum"})
    fs::copy_file(dir.path() / "runs/three/checkpoints" / file, dir.path() / "runs/two/checkpoints" / file,
                  fs::copy_options::overwrite_existing);
  const std::string metrics = test::read_text(dir.path() / "runs/two/metrics.jsonl");
  const auto r = test::run_cli("resume runs/two --set training.iterations=150", dir.str());
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("belongs to another pipeline"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("/network/options/latent_dim: the checkpoint was written by a pipeline with 3, this one has 2"),
            std::string::npos)
      << r.output;
  EXPECT_EQ(test::read_text(dir.path() / "runs/two/metrics.jsonl"), metrics);
}

TEST(Reliability, Case1_EditedConfigIsRefusedNamingTheFirstDifference) {
  test::TempDir dir;
  ASSERT_EQ(run_small(dir).exit_code, 0);
  const auto config_path = dir.path() / "runs/small/config.json";
  const std::string original = test::read_text(config_path);
  for (const auto& [pointer, value] : std::vector<std::pair<std::string, json>>{
           {"/training/batch_size", 16}, {"/seed", 4}, {"/network/options/hidden", json::array({64})}}) {
    json edited = json::parse(original);
    edited[json::json_pointer(pointer)] = value;
    test::write_text(config_path, edited.dump(2));
    const auto r = test::run_cli("resume runs/small --set training.iterations=150", dir.str());
    EXPECT_EQ(r.exit_code, 2) << pointer << ": " << r.output;
    // The first differing value: the pointer itself, or an element under it (/hidden/0).
    EXPECT_NE(r.output.find("another run): " + pointer), std::string::npos) << r.output;
    EXPECT_NE(r.output.find(": the checkpoint was written by a pipeline with"), std::string::npos) << r.output;
  }
  // What resume may change stays allowed when edited by hand too: evaluators, log_every.
  json edited = json::parse(original);
  edited["training"]["log_every"] = 10;
  edited["evaluators"] = json::array({{{"plugin", "reconstruction"}}});
  test::write_text(config_path, edited.dump(2));
  const auto ok = test::run_cli("resume runs/small --set training.iterations=150", dir.str());
  EXPECT_EQ(ok.exit_code, 0) << ok.output;
}

TEST(Reliability, Case1_EveryTensorShapeIsCheckedBeforeLoading) {
  // The check that holds for checkpoints without an identity record: Module::load would replace
  // a [4, 3] weight by a [5, 3] one without a word.
  torch::nn::Sequential small(torch::nn::Linear(3, 4), torch::nn::ReLU(), torch::nn::Linear(4, 2));
  torch::nn::Sequential wide(torch::nn::Linear(3, 5), torch::nn::ReLU(), torch::nn::Linear(5, 2));
  torch::nn::Sequential same(torch::nn::Linear(3, 4), torch::nn::ReLU(), torch::nn::Linear(4, 2));
  torch::serialize::OutputArchive out;
  small->save(out);
  std::ostringstream bytes;
  out.save_to(bytes);
  auto archive_of = [&] {
    torch::serialize::InputArchive in;
    std::istringstream s(bytes.str());
    in.load_from(s);
    return in;
  };
  auto a = archive_of();
  try {
    host::check_module_archive(*wide, a, "ckpt");
    FAIL() << "a wider layer passed";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("0.weight: the checkpoint holds Float [4, 3], this pipeline Float [5, 3]"),
              std::string::npos)
        << e.what();
  }
  auto b = archive_of();
  EXPECT_NO_THROW(host::check_module_archive(*same, b, "ckpt"));
  torch::nn::Sequential deeper(torch::nn::Linear(3, 4), torch::nn::ReLU(), torch::nn::Linear(4, 2), torch::nn::ReLU(),
                               torch::nn::Linear(2, 2));
  auto c = archive_of();
  EXPECT_THROW(host::check_module_archive(*deeper, c, "ckpt"), Error);
}

TEST(Reliability, Case2_ASecondProcessOnARunFolderIsRefusedNamingTheHolder) {
  test::TempDir dir;
  const auto config = test::write_config(dir, pipeline());
  ASSERT_EQ(test::run_cli("run " + config + " --out runs", dir.str()).exit_code, 0);
  {
    const auto lock = host::RunLock::acquire(dir.path() / "runs/small", "test");
    const std::string holder = "priorlab process " + std::to_string(::getpid());
    const std::string metrics = test::read_text(dir.path() / "runs/small/metrics.jsonl");
    for (const std::string& command : {std::string("resume runs/small --set training.iterations=150"),
                                       std::string("evaluate runs/small --evaluator '{\"plugin\": \"reconstruction\"}'"),
                                       "run " + config + " --out runs --force"}) {
      const auto r = test::run_cli(command, dir.str());
      EXPECT_EQ(r.exit_code, 2) << command << ": " << r.output;
      EXPECT_NE(r.output.find("in use: " + holder), std::string::npos) << command << ": " << r.output;
    }
    EXPECT_EQ(test::read_text(dir.path() / "runs/small/metrics.jsonl"), metrics);
  }
  // The lock dies with its holder: the resume now goes through.
  const auto r = test::run_cli("resume runs/small --set training.iterations=150", dir.str());
  EXPECT_EQ(r.exit_code, 0) << r.output;
}

TEST(Reliability, Case2_TwoRunsStartedTogetherCannotShareAFolder) {
  test::TempDir dir;
  const auto config = test::write_config(dir, pipeline(300));
  const std::string exe = PRIORLAB_EXE;
  const auto r = test::run_bash("for i in 1 2; do (" + exe + " run " + config +
                           " --out runs > out$i.txt 2>&1; echo $? > rc$i.txt) & done; wait",
                       dir.str());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::set<std::string> codes = {test::read_text(dir.path() / "rc1.txt"), test::read_text(dir.path() / "rc2.txt")};
  EXPECT_EQ(codes, (std::set<std::string>{"0\n", "2\n"}))
      << test::read_text(dir.path() / "out1.txt") << test::read_text(dir.path() / "out2.txt");
  const auto steps = metric_steps(dir.path() / "runs/small");
  std::vector<std::int64_t> expected;
  for (std::int64_t s = 20; s <= 300; s += 20) expected.push_back(s);
  EXPECT_EQ(steps, expected);
  // Nothing of the loser is left: no staging folder.
  for (const auto& e : fs::directory_iterator(dir.path() / "runs")) EXPECT_EQ(e.path().filename(), "small");
}

TEST(Reliability, Case3_AnotherThreadCountOnResumeIsSaidToBreakBitIdentity) {
  test::TempDir dir;
  ASSERT_EQ(run_small(dir).exit_code, 0);
  const auto same = test::run_cli("resume runs/small --set training.iterations=150", dir.str());
  EXPECT_EQ(same.exit_code, 0) << same.output;
  EXPECT_EQ(same.output.find("no longer bit-identical"), std::string::npos) << same.output;
  const auto other = test::run_cli("resume runs/small --set training.iterations=200 --set training.threads=2", dir.str());
  EXPECT_EQ(other.exit_code, 0) << other.output;
  EXPECT_NE(other.output.find("step 150 was trained with 1 intra-op thread(s), this session uses 2"), std::string::npos)
      << other.output;
  EXPECT_NE(other.output.find("no longer bit-identical"), std::string::npos) << other.output;
}

TEST(Reliability, Case4_AFlippedByteFallsBackToThePreviousCheckpoint) {
  test::TempDir dir;
  const auto config = test::write_config(dir, pipeline(150));
  ASSERT_EQ(test::run_cli("run " + config + " --out runs --name whole", dir.str()).exit_code, 0);
  ASSERT_EQ(test::run_cli("run " + config + " --out runs --name hurt --set training.iterations=100", dir.str()).exit_code, 0);
  const auto newest = dir.path() / "runs/hurt/checkpoints/step_00000100.pt";
  {
    std::fstream f(newest, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(static_cast<std::streamoff>(fs::file_size(newest) / 2));
    char c = 0;
    f.read(&c, 1);
    f.seekp(static_cast<std::streamoff>(fs::file_size(newest) / 2));
    c = static_cast<char>(c ^ 0x10);
    f.write(&c, 1);
  }
  const auto r = test::run_cli("resume runs/hurt --set training.iterations=150", dir.str());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("step_00000100.pt: damaged (bit rot or a torn copy): CRC-32C"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("falling back to step_00000050.pt"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("resuming hurt at step 50 of 150"), std::string::npos) << r.output;
  // From step 50 on, the run is the uninterrupted one, bit for bit.
  const auto a = test::checkpoint_network_tensors(dir.path() / "runs/whole/checkpoints/step_00000150.pt");
  const auto b = test::checkpoint_network_tensors(dir.path() / "runs/hurt/checkpoints/step_00000150.pt");
  ASSERT_FALSE(a.empty());
  ASSERT_EQ(a.size(), b.size());
  for (const auto& [k, t] : a) EXPECT_TRUE(torch::equal(t, b.at(k))) << k;
  EXPECT_EQ(metric_steps(dir.path() / "runs/hurt"), metric_steps(dir.path() / "runs/whole"));
}

TEST(Reliability, Case5_AMalformedMetricsLineDropsItselfNotTheLinesAfterIt) {
  test::TempDir dir;
  ASSERT_EQ(run_small(dir).exit_code, 0);
  const auto path = dir.path() / "runs/small/metrics.jsonl";
  std::string text = test::read_text(path);
  const auto second = text.find('\n') + 1;
  text.replace(second, text.find('\n', second) - second, "{\"step\": 40, \"loss\": ");  // line 2 cut short
  test::write_text(path, text);
  const auto r = test::run_cli("resume runs/small --set training.iterations=120", dir.str());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("metrics.jsonl:2: not a metrics record; dropped"), std::string::npos) << r.output;
  EXPECT_EQ(metric_steps(dir.path() / "runs/small"), (std::vector<std::int64_t>{20, 60, 80, 100, 120}));
}

TEST(Reliability, Case7_AFailedCheckpointWriteIsALocatedErrorNotAnAbort) {
  // The file-size limit makes the checkpoint's write fail (EFBIG) as a full disk would
  // (ENOSPC): write_file_atomic sees both the same way. SIGXFSZ is ignored, so the write fails
  // instead of killing the process.
  test::TempDir dir;
  const auto config = test::write_config(dir, pipeline());
  const auto r = test::run_bash(std::string("trap \"\" XFSZ; ulimit -f 200; exec ") + PRIORLAB_EXE + " run " + config + " --out runs",
                       dir.str());
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_EQ(r.output.find("terminate called"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("step_00000050.pt: write failed: File too large"), std::string::npos) << r.output;
  const json status = json::parse(test::read_text(dir.path() / "runs/small/run.json"));
  EXPECT_EQ(status["status"], "failed");
  EXPECT_NE(status["error"].get<std::string>().find("no checkpoint was written yet"), std::string::npos) << status;
  for (const auto& e : fs::directory_iterator(dir.path() / "runs/small/checkpoints"))
    ADD_FAILURE() << "left behind: " << e.path();
}

TEST(Reliability, Case7_TemporariesOfKilledWritesAreRemovedOnResume) {
  test::TempDir dir;
  ASSERT_EQ(run_small(dir).exit_code, 0);
  const auto run = dir.path() / "runs/small";
  test::write_text(run / "checkpoints/step_00000150.tmp4242.pt", "half a checkpoint");
  test::write_text(run / "metrics.tmp4242.jsonl", "half");
  test::write_text(run / "keep.txt", "not a temporary");
  const auto r = test::run_cli("resume runs/small --set training.iterations=120", dir.str());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("removed 2 temporary file(s)"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(run / "checkpoints/step_00000150.tmp4242.pt"));
  EXPECT_FALSE(fs::exists(run / "metrics.tmp4242.jsonl"));
  EXPECT_TRUE(fs::exists(run / "keep.txt"));
}

TEST(Reliability, Case7_TooLittleFreeSpaceSaysHowMuchIsMissing) {
  test::TempDir dir;
  EXPECT_NO_THROW(host::check_free_space(dir.path(), 1024, "a test file"));
  try {
    host::check_free_space(dir.path(), std::uintmax_t{1} << 62, "step_00000050.pt");
    FAIL() << "4 EiB fitted";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("needs 4294967296.0 GiB for step_00000050.pt"), std::string::npos) << what;
    EXPECT_NE(what.find("missing)"), std::string::npos) << what;
  }
}

TEST(Reliability, Case13_IterationsBelowTheReachedStepAreRefused) {
  test::TempDir dir;
  ASSERT_EQ(run_small(dir).exit_code, 0);
  const std::string config = test::read_text(dir.path() / "runs/small/config.json");
  const auto r = test::run_cli("resume runs/small --set training.iterations=50", dir.str());
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("training.iterations: 50 is below the step the run has reached (100)"), std::string::npos)
      << r.output;
  EXPECT_EQ(test::read_text(dir.path() / "runs/small/config.json"), config);
}

TEST(Reliability, Case13_ThePointerFormOfSetWorksOnResume) {
  test::TempDir dir;
  ASSERT_EQ(run_small(dir).exit_code, 0);
  const auto r = test::run_cli("resume runs/small --set /training/iterations=120", dir.str());
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("resuming small at step 100 of 120"), std::string::npos) << r.output;
  const auto bad = test::run_cli("resume runs/small --set /training/batch_size=8", dir.str());
  EXPECT_EQ(bad.exit_code, 2) << bad.output;
  EXPECT_NE(bad.output.find("resume may only change"), std::string::npos) << bad.output;
}

namespace {

/// Both `validate` and `run` of `config` (written to dir/p.json): validate must refuse what run
/// refuses, with the same located line. Returns validate's output.
std::string refused_by_validate_and_run(const test::TempDir& dir, const json& config, const std::string& expected,
                                        const std::string& extra = "") {
  const std::string file = test::write_config(dir, config);
  const auto v = test::run_cli("validate " + file + extra, dir.str());
  EXPECT_EQ(v.exit_code, 2) << v.output;
  EXPECT_NE(v.output.find(expected), std::string::npos) << v.output;
  const auto r = test::run_cli("run " + file + extra + " --out runs", dir.str());
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find(expected), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(dir.path() / "runs" / "small")) << "a refused run left a folder";
  return v.output;
}

}  // namespace

// Case 9: JSON nested 100,000 deep segfaulted validate and run (exit 139, nothing printed).
TEST(Reliability, Case9_DeeplyNestedJsonIsALocatedErrorNotACrash) {
  test::TempDir dir;
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  test::write_text(dir.path() / "deep.json", "{\"name\": \"small\",\n \"x\": " + deep + "}");
  for (const char* command : {"validate", "run"}) {
    const auto r = test::run_cli(std::string(command) + " deep.json", dir.str());
    EXPECT_EQ(r.exit_code, 2) << command << ": " << r.output.substr(0, 300);
    // The 64th '[' inside the object is the 65th level; it sits on line 2, column 7 + 63.
    EXPECT_NE(r.output.find("deep.json:2:70: JSON nested deeper than 64 levels"), std::string::npos)
        << r.output.substr(0, 300);
  }
  // The same bound holds for --set values and for sweep files; 64 levels are still fine.
  const std::string file = test::write_config(dir, pipeline());
  const auto set = test::run_cli("validate " + file + " --set \"description=" + std::string(65, '[') + std::string(65, ']') + "\"",
                                 dir.str());
  EXPECT_EQ(set.exit_code, 2) << set.output;
  EXPECT_NE(set.output.find("JSON nested deeper than 64 levels"), std::string::npos) << set.output;
  test::write_text(dir.path() / "sweep.json", deep);
  EXPECT_EQ(test::run_cli("sweep sweep.json --dry-run", dir.str()).exit_code, 2);
  json ok = pipeline();
  json nested = json::array();
  for (int i = 0; i < 60; ++i) nested = json::array({nested});
  ok["description"] = nested.dump();  // a string: depth counts brackets outside strings only
  EXPECT_EQ(test::run_cli("validate " + test::write_config(dir, ok), dir.str()).exit_code, 0);
}

// Case 10: training.threads = 100000 passed validate, then run hung spawning threads; a FIFO as
// the config blocked forever.
TEST(Reliability, Case10_AnAbsurdThreadCountAndAFifoConfigAreRefusedAtOnce) {
  test::TempDir dir;
  json c = pipeline();
  c["training"]["threads"] = 100000;
  const int bound = host::max_threads();
  refused_by_validate_and_run(dir, c,
                              fmt::format("/training/threads: expected integer in [0, {}], found number 100000", bound));
  c["training"]["threads"] = bound;  // the bound itself is allowed
  EXPECT_EQ(test::run_cli("validate " + test::write_config(dir, c), dir.str()).exit_code, 0);
  const auto eval = test::run_cli("evaluate . --threads 100000", dir.str());
  EXPECT_EQ(eval.exit_code, 2) << eval.output;
  EXPECT_NE(eval.output.find("--threads: expected an integer in [0, "), std::string::npos) << eval.output;

  ASSERT_EQ(::mkfifo((dir.path() / "fifo.json").c_str(), 0600), 0);
  const auto r = test::run_bash("timeout 60 \"" PRIORLAB_EXE "\" validate fifo.json", dir.str());
  EXPECT_EQ(r.exit_code, 2) << r.output;  // 124 would be the hang
  EXPECT_NE(r.output.find("fifo.json: expected a regular file, found a FIFO"), std::string::npos) << r.output;
}

// Case 11: numbers out of range, an index no integer holds, and file-system failures were raw
// library messages without a path.
TEST(Reliability, Case11_OutOfRangeNumbersAndFileSystemFailuresAreLocated) {
  test::TempDir dir;
  test::write_text(dir.path() / "big.json", "{\"name\": \"small\",\n  \"seed\": 1e999}");
  auto r = test::run_cli("validate big.json", dir.str());
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("big.json:2:11: number 1e999 is out of range"), std::string::npos) << r.output;
  test::write_text(dir.path() / "long.json", "{\"seed\": " + std::string(5000, '7') + "}");
  r = test::run_cli("validate long.json", dir.str());
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("long.json:1:10: number 77777777777777777777... (5000 characters) is out of range"),
            std::string::npos)
      << r.output;
  const std::string file = test::write_config(dir, pipeline());
  r = test::run_cli("validate " + file + " --set evaluators.99999999999999999999999=1", dir.str());
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("'99999999999999999999999' indexes a list of 0 entries"), std::string::npos) << r.output;
  r = test::run_cli("validate " + file + " --set seed=1e999", dir.str());
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("--set seed=1e999:1:1: number 1e999 is out of range"), std::string::npos) << r.output;

  // A symbolic-link loop as the config, and an --out below a regular file.
  fs::create_symlink("loop.json", dir.path() / "loop.json");
  r = test::run_cli("validate loop.json", dir.str());
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("loop.json: cannot read: Too many levels of symbolic links"), std::string::npos) << r.output;
  test::write_text(dir.path() / "afile", "x");
  r = test::run_cli("run " + file + " --out afile/runs", dir.str());
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("priorlab: error: afile/runs: cannot create directories: Not a directory"), std::string::npos)
      << r.output;
  EXPECT_EQ(r.output.find("filesystem error"), std::string::npos) << r.output;
}

// Case 12: validate accepted what run rejected. Each is now refused by both, with one line.
TEST(Reliability, Case12_ValidateRefusesEverythingRunRefuses) {
  test::TempDir dir;
  const std::vector<std::string> names{"/etc/passwd", "..", "../x", "a/b", "a\\b", ".hidden", std::string(300, 'n'),
                                       std::string("a\0b", 3)};
  for (const auto& name : names) {
    json c = pipeline();
    c["name"] = name;
    const auto out = refused_by_validate_and_run(dir, c, "/name: run name ");
    if (name.size() == 3 && name[1] == '\0') {
      EXPECT_NE(out.find("\"a\\u0000b\" holds a control character"), std::string::npos) << out;
    }
  }
  EXPECT_FALSE(fs::exists("/etc/passwd/config.json"));
  const std::string file = test::write_config(dir, pipeline());
  const auto named = test::run_cli("run " + file + " --name ../escape --out runs", dir.str());
  EXPECT_EQ(named.exit_code, 2) << named.output;
  EXPECT_NE(named.output.find("--name: run name \"../escape\" holds a path separator"), std::string::npos) << named.output;

  json c = pipeline();
  c["training"]["batch_size"] = 1000;  // the pendulum's training split holds 300 of its 400 examples
  refused_by_validate_and_run(dir, c, "/training/batch_size: batch size 1000 exceeds the 300 training examples");
  c = pipeline();
  c["scheduler"] = {{"plugin", "rewo"}, {"options", {{"alpha", 1.0}}}};
  refused_by_validate_and_run(dir, c, "/scheduler/options/alpha: expected number in [0, 1), found number 1.0");
  c = pipeline();
  c["network"]["options"]["hidden"] = {3037000500, 3037000500};  // its square overflows int64
  refused_by_validate_and_run(dir, c, "/network/options/hidden/0: expected each element to be integer in [1, 1048576]");
  c = pipeline();
  c["dataset"] = {{"plugin", "static_mnist"}, {"options", {{"shape", json::array()}}}};
  refused_by_validate_and_run(dir, c, "/dataset/options/shape: expected list of integers >= 1, 1 to 4 entries");
  c["dataset"]["options"]["shape"] = {65536, 65536, 65536, 65536};  // 2^64 values: the product overflows
  refused_by_validate_and_run(dir, c, "product <= 16777216");
}

// Found by fuzz_set: a --set key or bare word that is not UTF-8 escaped as a raw nlohmann
// type_error when the pipeline was printed or written. It is now a located error.
TEST(Reliability, Case11_ASetThatIsNotUtf8IsALocatedError) {
  test::TempDir dir;
  const std::string file = test::write_config(dir, pipeline());
  const auto r = test::run_cli("validate " + file + " --set \"$(printf 'description=caf\\351')\"", dir.str());
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find(": is not valid UTF-8"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("type_error"), std::string::npos) << r.output;
}

// Found by fuzz_checkpoint: LibTorch 1.13 reads a checkpoint's ZIP container without checking
// its CRC-32s, and its TorchScript reader segfaults on a damaged code entry. The container is
// now checked first, sidecar or not. Python's zipfile, an independent reader, finds the same
// first damaged entry in the corpus input (ZipFile.testzip() returns 'archive/data/25'; the
// code entry archive/code/__torch__/___torch_mangle_20.py is damaged too).
TEST(Reliability, Case4_ADamagedCheckpointContainerIsFoundBeforeLibTorchReadsIt) {
  const fs::path corpus = fs::path(PRIORLAB_SOURCE_DIR) / "tests/fuzz/corpus/fuzz_checkpoint";
  const std::string valid = test::read_text(corpus / "valid.pt");
  EXPECT_EQ(host::check_zip_container(valid), "");
  const std::string crash = host::check_zip_container(test::read_text(corpus / "crash-damaged-code-entry.pt"));
  EXPECT_EQ(crash.rfind("entry archive/data/25: CRC-32 0bb7cc87, the directory records 993324c6", 0), 0u) << crash;
  std::string flipped = valid;
  const auto at = flipped.find("class Module");  // inside a stored code entry
  ASSERT_NE(at, std::string::npos);
  flipped[at] ^= 0x20;
  EXPECT_NE(host::check_zip_container(flipped).find(": CRC-32 "), std::string::npos);
  EXPECT_NE(host::check_zip_container(valid.substr(0, valid.size() / 2)).find("no ZIP end-of-directory record"),
            std::string::npos);
  EXPECT_EQ(host::check_zip_container("PK"), "2 bytes, too short for a ZIP archive");
  // Through resume: the newest checkpoint damaged, no sidecar: the one before is used.
  test::TempDir dir;
  ASSERT_EQ(run_small(dir).exit_code, 0);
  const fs::path newest = dir.path() / "runs/small/checkpoints/step_00000100.pt";
  std::string bytes = test::read_text(newest);
  bytes[bytes.find("class Module")] ^= 0x20;
  test::write_text(newest, bytes);
  fs::remove(newest.string() + ".sum");
  const auto r = test::run_cli("resume runs/small", dir.str());
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("CRC-32"), std::string::npos) << r.output;
}
