// `priorlab evaluate`: a finished run evaluated again without training. A section the run did not
// have gives the metrics the same model gives when trained with it; the run's own sections give
// back its own metrics; --checkpoint picks the model of that step; a bad section or step changes
// no byte; a sweep folder is evaluated N at a time and its comparison table sees the new metric.
#include <gtest/gtest.h>

#include <fstream>
#include <map>

#include "run/run.hpp"
#include "test_util.hpp"

using namespace priorlab;
using test::json;
namespace fs = std::filesystem;

namespace {

const char* const kLoglik = R"({"plugin": "loglik", "options": {"samples": 20, "limit": 30}})";

std::string quoted(const std::string& s) { return "'" + s + "'"; }

json read_json(const fs::path& p) { return json::parse(std::ifstream(p)); }

// Trains small_pipeline(iterations) with `evaluators` into DIR/runs/NAME.
void train(const test::TempDir& dir, const std::string& name, const json& evaluators, std::int64_t iterations = 60) {
  json c = test::small_pipeline(iterations);
  c["name"] = name;
  c["evaluators"] = evaluators;
  test::write_text(dir.path() / (name + ".json"), c.dump(2));
  const auto r = test::run_cli("run " + name + ".json --out runs", dir.str());
  ASSERT_EQ(r.exit_code, 0) << r.output;
}

// Every file under `root` with its bytes.
std::map<std::string, std::string> snapshot(const fs::path& root) {
  std::map<std::string, std::string> files;
  for (const auto& e : fs::recursive_directory_iterator(root))
    if (e.is_regular_file()) files[fs::relative(e.path(), root).string()] = test::read_text(e.path());
  return files;
}

const json kReconstruction = json::parse(R"([{"plugin": "reconstruction", "options": {"pictures": 8}}])");

}  // namespace

TEST(Evaluate, ASectionTheRunDidNotHaveJoinsItsMetricsAsIfTrainedWithIt) {
  test::TempDir dir;
  train(dir, "a", kReconstruction);
  // The same training with loglik as its first evaluator: the same model, and the same evaluation
  // seed (the seed of an evaluator is that of its place in the list).
  json with = json::array({json::parse(kLoglik)});
  with.push_back(kReconstruction[0]);
  train(dir, "b", with);
  const json before = read_json(dir.path() / "runs/a/summary.json");
  ASSERT_FALSE(before["evaluators"].contains("loglik"));

  const auto r = test::run_cli("evaluate runs/a --evaluator " + quoted(kLoglik), dir.str());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("evaluating a at step 60 of 60 with 1 evaluator(s)"), std::string::npos) << r.output;
  const json after = read_json(dir.path() / "runs/a/summary.json");
  const json b = read_json(dir.path() / "runs/b/summary.json");
  EXPECT_EQ(after["evaluators"]["loglik"], b["evaluators"]["loglik"]);  // bit-identical numbers
  EXPECT_TRUE(after["evaluators"]["loglik"].contains("nll"));
  EXPECT_EQ(after["evaluators"]["reconstruction"], before["evaluators"]["reconstruction"]);  // kept
  EXPECT_EQ(after["train"], before["train"]);
  EXPECT_EQ(after["status"], "completed");
  EXPECT_EQ(after["evaluated"]["loglik"]["step"], 60);
  EXPECT_FALSE(after["evaluated"].contains("reconstruction"));
  // The report is rewritten, and `compare` sees the new metric.
  EXPECT_NE(test::read_text(dir.path() / "runs/a/report.html").find("loglik"), std::string::npos);
  const auto c = test::run_cli("compare runs/a --metrics loglik.nll", dir.str());
  EXPECT_EQ(c.exit_code, 0) << c.output;
  EXPECT_NE(c.output.find("loglik.nll"), std::string::npos) << c.output;
}

TEST(Evaluate, TheRunsOwnEvaluatorsGiveItsMetricsAgainAndACheckpointGivesThatStepsModel) {
  test::TempDir dir;
  train(dir, "a", kReconstruction);
  train(dir, "c", kReconstruction, 50);  // what the model of step 50 scores, trained only that far
  const json before = read_json(dir.path() / "runs/a/summary.json");
  auto r = test::run_cli("evaluate runs/a", dir.str());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  json after = read_json(dir.path() / "runs/a/summary.json");
  EXPECT_EQ(after["evaluators"], before["evaluators"]);
  EXPECT_EQ(after["evaluated"]["reconstruction"]["step"], 60);

  r = test::run_cli("evaluate runs/a --checkpoint 50", dir.str());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("at step 50 of 60 (not the end of training)"), std::string::npos) << r.output;
  after = read_json(dir.path() / "runs/a/summary.json");
  EXPECT_EQ(after["evaluators"]["reconstruction"], read_json(dir.path() / "runs/c/summary.json")["evaluators"]["reconstruction"]);
  EXPECT_NE(after["evaluators"]["reconstruction"], before["evaluators"]["reconstruction"]);
  EXPECT_EQ(after["evaluated"]["reconstruction"]["step"], 50);
}

TEST(Evaluate, ABadSectionOrStepChangesNoByte) {
  test::TempDir dir;
  train(dir, "a", kReconstruction);
  const auto files = snapshot(dir.path() / "runs/a");
  struct Case {
    std::string args, says;
  };
  const std::vector<Case> cases = {
      {"--evaluator " + quoted(R"({"plugin": "loglik", "options": {"samples": -1}})"),
       R"(--evaluator {"plugin": "loglik", "options": {"samples": -1}}: /options/samples: expected integer >= 1, found number -1)"},
      {"--evaluator " + quoted(R"({"plugin": "nope"})"), R"(--evaluator {"plugin": "nope"}: /plugin: )"},
      {"--evaluator " + quoted(R"({"plugin": "loglik",})"), R"(--evaluator {"plugin": "loglik",}:1:21: malformed JSON: )"},
      {"--evaluator " + quoted(kLoglik) + " --evaluator '\"loglik\"'",
       "--evaluator \"loglik\": expected an evaluator section {\"plugin\": NAME, \"options\": {...}}, found string"},
      {"--checkpoint 7", "--checkpoint 7: runs/a has no checkpoint at that step (it has: "},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.args);
    const auto r = test::run_cli("evaluate runs/a " + c.args, dir.str());
    EXPECT_EQ(r.exit_code, 2) << r.output;
    EXPECT_NE(r.output.find("priorlab: error: " + c.says), std::string::npos) << r.output;
    EXPECT_EQ(snapshot(dir.path() / "runs/a"), files);
  }
  const auto r = test::run_cli("evaluate runs/none", dir.str());
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("runs/none: not a folder"), std::string::npos) << r.output;
}

TEST(Evaluate, ASweepFolderIsEvaluatedNAtATimeAndFillsItsComparison) {
  test::TempDir dir;
  json base = test::small_pipeline(40);
  base["training"]["checkpoint_every"] = 0;
  base["evaluators"] = kReconstruction;
  const json sweep = {{"name", "tiny"}, {"base", base}, {"axes", json::array()}, {"seeds", {0, 1}}};
  test::write_text(dir.path() / "s.json", sweep.dump(2));
  auto r = test::run_cli("sweep s.json --jobs 2", dir.str());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = test::run_cli("evaluate runs/tiny --jobs 2 --evaluator " + quoted(kLoglik), dir.str());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("evaluate [2/2]"), std::string::npos) << r.output;
  for (const char* run : {"seed=0", "seed=1"}) {
    const json s = read_json(dir.path() / "runs/tiny" / run / "summary.json");
    EXPECT_TRUE(s["evaluators"].contains("loglik")) << run;
    EXPECT_TRUE(s["evaluators"].contains("reconstruction")) << run;
    EXPECT_NE(test::read_text(dir.path() / "runs/tiny" / run / "evaluate.log").find("evaluated"), std::string::npos);
  }
  r = test::run_cli("compare runs/tiny --metrics loglik.nll,reconstruction.elbo", dir.str());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("loglik.nll"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find(" ± "), std::string::npos) << r.output;  // both seeds in one row
}

TEST(Evaluate, PerDimensionMetricsAreAbbreviatedOnTheTerminalAndKeptInTheSummary) {
  // active_units-like metrics: 3 activity values, 3 kl values, one lone "_1" key and two plain ones.
  const json metrics = {{"active_units", 2},   {"activity_0", 0.5}, {"activity_1", 0.01}, {"activity_2", 0.9},
                        {"dimensions", 3},     {"kl_0", 1.25},      {"kl_1", 0.0},        {"kl_2", 3.5},
                        {"layer_1", 7}};
  // By hand: keys in sorted order, each group where its first key stands.
  EXPECT_EQ(host::abbreviate_metrics(metrics),
            "  active_units 2  activity_0..2 [3: min 0.01, max 0.9]  dimensions 3  kl_0..2 [3: min 0, max 3.5]  "
            "layer_1 7");
}
