// Comparison tables against summaries written by hand: grouping over seeds, mean, sample
// standard deviation, n, the best mark and its direction rule, Markdown and CSV.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <set>

#include "pipeline/pipeline.hpp"
#include "results/compare.hpp"
#include "results/report.hpp"
#include "test_util.hpp"

using namespace priorlab;
using namespace priorlab::host;
using test::json;
namespace fs = std::filesystem;

namespace {

void write_run(const fs::path& dir, double mae, double elbo, double rate, const std::string& status = "completed") {
  test::write_text(dir / "run.json", json{{"status", status}, {"step", 10}, {"iterations", 10}}.dump());
  test::write_text(
      dir / "summary.json",
      json{{"status", status},
           {"steps", 10},
           {"wall_seconds", 1.5},
           {"train", {{"loss", 100.0}, {"beta", 1.0}, {"phase", "main"}}},
           {"evaluators",
            {{"pendulum_angle", {{"mae_rad", mae}}}, {"reconstruction", {{"elbo", elbo}, {"rate", rate}}}}}}
          .dump());
}

// Two combinations: a over seeds 0, 1, 2 and b over seeds 0, 1; one failed run without a summary.
//   a: mae 0.1, 0.2, 0.3  → mean 0.2, sample std sqrt((0.01 + 0 + 0.01) / 2) = 0.1
//      elbo -10, -12, -14 → mean -12, std sqrt((4 + 0 + 4) / 2) = 2
//   b: mae 0.5, 0.7       → mean 0.6, std sqrt((0.01 + 0.01) / 1) = 0.1414...
//      elbo -8, -9        → mean -8.5, std sqrt((0.25 + 0.25) / 1) = 0.7071...
// mae: lower is better → a; elbo: higher is better → b; rate has no rule.
void write_grid(const fs::path& dir) {
  write_run(dir / "prior=a,seed=0", 0.1, -10, 3);
  write_run(dir / "prior=a,seed=1", 0.2, -12, 3);
  write_run(dir / "prior=a,seed=2", 0.3, -14, 3);
  write_run(dir / "prior=b,seed=0", 0.5, -8, 5);
  write_run(dir / "prior=b,seed=1", 0.7, -9, 7);
  test::write_text(dir / "prior=c,seed=0" / "run.json",
                   R"({"status": "failed", "step": 3, "error": "training step 4: non-finite loss nan"})");
  test::write_text(dir / ".prior=d,seed=0.staging" / "run.json", R"({"status": "created"})");  // ignored
}

}  // namespace

TEST(Compare, DirectionRule) {
  EXPECT_EQ(metric_direction("pendulum_angle.mae_rad"), Direction::kLower);
  EXPECT_EQ(metric_direction("reconstruction.nll_per_dim"), Direction::kLower);
  EXPECT_EQ(metric_direction("rate_distortion.distortion"), Direction::kLower);
  EXPECT_EQ(metric_direction("rate_distortion.negative_elbo"), Direction::kLower);
  EXPECT_EQ(metric_direction("reconstruction.mean_squared_error_per_dim"), Direction::kLower);
  EXPECT_EQ(metric_direction("train.loss"), Direction::kLower);
  EXPECT_EQ(metric_direction("smoothness.rms_mean"), Direction::kLower);
  EXPECT_EQ(metric_direction("reconstruction.elbo"), Direction::kHigher);
  EXPECT_EQ(metric_direction("loglik.log_likelihood"), Direction::kHigher);
  EXPECT_EQ(metric_direction("active_units.active_units"), Direction::kHigher);
  EXPECT_EQ(metric_direction("collapse.zeta_alive"), Direction::kHigher);
  EXPECT_EQ(metric_direction("loglik.nll_standard_error"), Direction::kUnknown);
  EXPECT_EQ(metric_direction("rate_distortion.rate"), Direction::kUnknown);
  EXPECT_EQ(metric_direction("training_curves.final_beta"), Direction::kUnknown);
}

TEST(Compare, SeedIsStrippedFromRunNames) {
  EXPECT_EQ(strip_seed("prior=vhp,scheduler=rewo,seed=2"), "prior=vhp,scheduler=rewo");
  EXPECT_EQ(strip_seed("seed=3"), "seed=3");  // nothing would be left: the name stays
  EXPECT_EQ(strip_seed("vhp_rewo_seed1"), "vhp_rewo");
  EXPECT_EQ(strip_seed("vhp-rewo-seed-12"), "vhp-rewo");
  EXPECT_EQ(strip_seed("pendulum_vhp_rewo"), "pendulum_vhp_rewo");
}

TEST(Compare, MeanSampleStdAndBestOverSeeds) {
  test::TempDir dir;
  write_grid(dir.path());
  const Comparison c = compare_runs(dir.path());
  EXPECT_EQ(c.runs.size(), 6u);  // the staging folder is not a run
  EXPECT_EQ(c.axis_columns, std::vector<std::string>{"prior"});
  // Default metrics: evaluator metrics with a known direction (rate has none).
  EXPECT_EQ(c.metrics, (std::vector<std::string>{"pendulum_angle.mae_rad", "reconstruction.elbo"}));
  ASSERT_EQ(c.rows.size(), 2u);
  EXPECT_EQ(c.rows[0].label, "prior=a");
  EXPECT_EQ(c.rows[0].axes, std::vector<std::string>{"a"});
  EXPECT_EQ(c.rows[0].runs.size(), 3u);
  const Cell a_mae = *c.rows[0].cells[0], a_elbo = *c.rows[0].cells[1];
  const Cell b_mae = *c.rows[1].cells[0], b_elbo = *c.rows[1].cells[1];
  EXPECT_NEAR(a_mae.mean, 0.2, 1e-15);
  EXPECT_NEAR(a_mae.std, 0.1, 1e-15);
  EXPECT_EQ(a_mae.n, 3);
  EXPECT_TRUE(a_mae.best);
  EXPECT_NEAR(b_mae.mean, 0.6, 1e-15);
  EXPECT_NEAR(b_mae.std, std::sqrt(0.02), 1e-15);
  EXPECT_EQ(b_mae.n, 2);
  EXPECT_FALSE(b_mae.best);
  EXPECT_DOUBLE_EQ(a_elbo.mean, -12);
  EXPECT_DOUBLE_EQ(a_elbo.std, 2);
  EXPECT_FALSE(a_elbo.best);
  EXPECT_DOUBLE_EQ(b_elbo.mean, -8.5);
  EXPECT_NEAR(b_elbo.std, std::sqrt(0.5), 1e-15);
  EXPECT_TRUE(b_elbo.best);
  ASSERT_EQ(c.incomplete.size(), 1u);
  EXPECT_EQ(c.incomplete[0]->name, "prior=c,seed=0");

  const std::string md = comparison_markdown(c);
  EXPECT_NE(md.find("| prior | n | pendulum_angle.mae_rad ↓ | reconstruction.elbo ↑ |\n|---|---:|---:|---:|\n"
                    "| a | 3 | **0.2 ± 0.1** | -12 ± 2 |\n"
                    "| b | 2 | 0.6 ± 0.1414 | **-8.5 ± 0.7071** |\n"),
            std::string::npos)
      << md;
  EXPECT_NE(md.find("- prior=c,seed=0 (failed: training step 4: non-finite loss nan)"), std::string::npos) << md;
  // The bootstrap table. Three seeds: every resampled mean of {0.1, 0.2, 0.3} lies in [0.1, 0.3],
  // and each end has probability 1/27 > 2.5 % (all three draws the same run), so of 10,000
  // resamples far more than 250 sit on each end (370 expected, sd 19): the interval is the range.
  // Two seeds {0.5, 0.7}: each end has probability 1/4.
  EXPECT_NE(md.find("Bootstrap 95 % interval of each mean"), std::string::npos) << md;
  EXPECT_NE(md.find("| a | 3 | [0.1, 0.3] | [-14, -10] |\n| b | 2 | [0.5, 0.7] | [-9, -8] |\n"), std::string::npos) << md;
  EXPECT_NEAR(a_mae.ci_low, 0.1, 1e-15);
  EXPECT_NEAR(a_mae.ci_high, 0.3, 1e-15);

  const std::string csv = comparison_csv(c);
  std::stringstream lines(csv);
  std::string header, row_a, row_b;
  std::getline(lines, header), std::getline(lines, row_a), std::getline(lines, row_b);
  EXPECT_EQ(header,
            "prior,n,runs,pendulum_angle.mae_rad_mean,pendulum_angle.mae_rad_std,pendulum_angle.mae_rad_n,"
            "pendulum_angle.mae_rad_best,pendulum_angle.mae_rad_ci95_low,pendulum_angle.mae_rad_ci95_high,"
            "reconstruction.elbo_mean,reconstruction.elbo_std,reconstruction.elbo_n,reconstruction.elbo_best,"
            "reconstruction.elbo_ci95_low,reconstruction.elbo_ci95_high");
  EXPECT_EQ(row_a.rfind("a,3,\"prior=a,seed=0;prior=a,seed=1;prior=a,seed=2\",", 0), 0u) << row_a;
  EXPECT_NE(row_a.find(",-12,2,3,0,-14,-10"), std::string::npos) << row_a;  // elbo: mean, sd, n, best, interval
  EXPECT_NE(row_b.find(",2,0,0.5,"), std::string::npos) << row_b;  // mae: n, best, interval from 0.5
  EXPECT_NE(row_b.find(",-8.5,"), std::string::npos) << row_b;
  EXPECT_EQ(row_b.substr(row_b.size() - 10), ",2,1,-9,-8") << row_b;  // elbo: n, best, interval
}

// The percentile bootstrap against the exact bootstrap distribution: for 5 values every one of
// the 5^5 = 3,125 equally likely resamples is enumerated, and the 10,000-draw interval must lie
// between the exact distribution's percentiles at p ∓ 4 Monte Carlo standard errors of a
// percentile's level (sqrt(p(1 − p)/B) = 0.0016 for p = 0.025).
TEST(Compare, BootstrapIntervalMatchesTheExactBootstrapDistribution) {
  const std::vector<double> values{0.1, 0.5, 0.9, 2.0, 3.7};
  std::vector<double> exact;
  for (int code = 0; code < 3125; ++code) {
    double sum = 0;
    for (int i = 0, c = code; i < 5; ++i, c /= 5) sum += values[static_cast<size_t>(c % 5)];
    exact.push_back(sum / 5);
  }
  std::sort(exact.begin(), exact.end());
  const auto quantile = [&](double p) {  // the exact distribution's percentile (type 7)
    const double h = p * (exact.size() - 1);
    const auto i = static_cast<size_t>(h);
    return exact[i] + (h - i) * (exact[std::min(i + 1, exact.size() - 1)] - exact[i]);
  };
  const double se = std::sqrt(0.025 * 0.975 / 10000);
  const auto [low, high] = bootstrap_mean_interval(values);
  EXPECT_GE(low, quantile(0.025 - 4 * se));
  EXPECT_LE(low, quantile(0.025 + 4 * se));
  EXPECT_GE(high, quantile(0.975 - 4 * se));
  EXPECT_LE(high, quantile(0.975 + 4 * se));
  EXPECT_LT(quantile(0.025 + 4 * se), quantile(0.975 - 4 * se));  // the windows do not overlap
  // Reproducible: the same values and seed give the same interval; another seed moves it a little.
  EXPECT_EQ(bootstrap_mean_interval(values), std::make_pair(low, high));
  EXPECT_NE(bootstrap_mean_interval(values, 10000, 1), std::make_pair(low, high));
  EXPECT_EQ(bootstrap_mean_interval({4.5}), std::make_pair(4.5, 4.5));
  EXPECT_THROW(bootstrap_mean_interval({}), Error);
  EXPECT_THROW(bootstrap_mean_interval(values, 0), Error);
}

TEST(Compare, MetricsAreChosenByNameOrSuffixAndAMissingOneIsAnError) {
  test::TempDir dir;
  write_grid(dir.path());
  const Comparison c = compare_runs(dir.path(), {"rate", "train.beta"});
  EXPECT_EQ(c.metrics, (std::vector<std::string>{"reconstruction.rate", "train.beta"}));
  // rate: a 3, 3, 3 → 3 ± 0; b 5, 7 → 6 ± 1.414; no direction, so nothing is marked.
  EXPECT_DOUBLE_EQ(c.rows[1].cells[0]->mean, 6);
  EXPECT_FALSE(c.rows[0].cells[0]->best || c.rows[1].cells[0]->best);
  try {
    compare_runs(dir.path(), {"accuracy"});
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(
        std::string(e.what()).rfind("--metrics accuracy: no run under " + dir.str() + " reports it (available: ", 0),
        0u)
        << e.what();
  }
  // A near miss is named before the list (a slash for the dot: one edit).
  try {
    compare_runs(dir.path(), {"reconstruction/rate"});
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("reports it; did you mean 'reconstruction.rate'? (available: "), std::string::npos)
        << e.what();
  }
}

TEST(Compare, CommandWritesMarkdownAndCsvAndPrintsTheTable) {
  test::TempDir dir;
  write_grid(dir.path() / "grid");
  const auto r = test::run_cli("compare grid --metrics mae_rad", dir.str());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("| a | 3 | **0.2 ± 0.1** |"), std::string::npos) << r.output;
  std::ifstream md(dir.path() / "grid" / "comparison.md"), csv(dir.path() / "grid" / "comparison.csv");
  const std::string md_text((std::istreambuf_iterator<char>(md)), std::istreambuf_iterator<char>());
  EXPECT_NE(md_text.find("| b | 2 | 0.6 ± 0.1414 |"), std::string::npos) << md_text;
  EXPECT_TRUE(csv.good());
  const auto bad = test::run_cli("compare grid --metrics nothing_like_it", dir.str());
  EXPECT_EQ(bad.exit_code, 2) << bad.output;
  EXPECT_EQ(bad.output.rfind("priorlab: error: --metrics nothing_like_it: no run under grid reports it", 0), 0u)
      << bad.output;
}

TEST(Compare, RunsWithOneNameButDifferentPipelinesAreNotPooled) {
  test::TempDir dir;
  write_run(dir.path() / "one" / "x_seed0", 0.1, -1, 1);
  write_run(dir.path() / "one" / "x_seed1", 0.3, -1, 1);
  write_run(dir.path() / "two" / "x_seed0", 0.9, -1, 1);
  test::write_text(dir.path() / "one" / "x_seed0" / "config.json",
                   R"({"name": "x_seed0", "seed": 0, "training": {"iterations": 10, "threads": 1}})");
  test::write_text(dir.path() / "one" / "x_seed1" / "config.json",
                   R"({"name": "x_seed1", "seed": 1, "training": {"iterations": 10, "threads": 2}})");
  test::write_text(dir.path() / "two" / "x_seed0" / "config.json",
                   R"({"name": "x_seed0", "seed": 0, "training": {"iterations": 20}})");
  const Comparison c = compare_runs(dir.path(), {"mae_rad"});
  ASSERT_EQ(c.rows.size(), 2u);
  EXPECT_EQ(c.axis_columns, std::vector<std::string>{"run"});
  EXPECT_EQ(c.rows[0].label, "one/x");
  EXPECT_EQ(c.rows[0].runs.size(), 2u);  // threads differ: still one combination
  EXPECT_DOUBLE_EQ(c.rows[0].cells[0]->mean, 0.2);
  EXPECT_EQ(c.rows[1].label, "two/x");
  EXPECT_EQ(c.rows[1].cells[0]->n, 1);
}

TEST(Compare, CommandDrawsTheBetaAndConstraintCurvesOfEveryRunWhenTheyHaveMetrics) {
  test::TempDir dir;
  write_grid(dir.path() / "grid");
  // Without metrics lines there is nothing to draw, and no picture is claimed.
  const auto bare = test::run_cli("compare grid --metrics mae_rad", dir.str());
  ASSERT_EQ(bare.exit_code, 0) << bare.output;
  EXPECT_FALSE(fs::exists(dir.path() / "grid" / "comparison_curves.png"));
  EXPECT_EQ(bare.output.find("picture:"), std::string::npos) << bare.output;

  for (const char* run : {"prior=a,seed=0", "prior=b,seed=0"}) {
    std::string lines;
    for (int step = 100; step <= 500; step += 100)
      lines += json{{"step", step}, {"beta", 1e-6 * step}, {"squared_error_per_dim", 0.1 / step}, {"threshold", 0.0004}}
                   .dump() +
               "\n";
    test::write_text(dir.path() / "grid" / run / "metrics.jsonl", lines + "{\"step\": 6");  // last line cut by a kill
  }
  const auto r = test::run_cli("compare grid --metrics mae_rad", dir.str());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  test::expect_picture(dir.path() / "grid" / "comparison_curves.png");
  EXPECT_EQ(r.output.find("picture: ") != std::string::npos, bool(PRIORLAB_WITH_OPENCV)) << r.output;
}

namespace {

// A run with a loglik summary and its per-example file (index, log p(x)), seed in config.json.
void write_scored_run(const fs::path& dir, std::int64_t seed, const std::vector<std::pair<int, double>>& log_px) {
  test::write_text(dir / "run.json", json{{"status", "completed"}, {"step", 10}, {"iterations", 10}}.dump());
  test::write_text(dir / "config.json", json{{"seed", seed}, {"prior", "x"}}.dump());
  double sum = 0;
  std::string csv = "index,log_px,elbo,rate,distortion\n";
  for (const auto& [i, v] : log_px) {
    csv += fmt::format("{},{},0,0,0\n", i, v);
    sum += v;
  }
  test::write_text(dir / "artefacts" / "loglik_per_example.csv", csv);
  test::write_text(dir / "summary.json",
                   json{{"status", "completed"}, {"evaluators", {{"loglik", {{"nll", -sum / log_px.size()}}}}}}.dump());
}

}  // namespace

TEST(Compare, PairedDifferencesToAReferenceRowMatchAHandComputation) {
  test::TempDir dir;
  // Reference a, rows b (seeds 0 and 1) and c (no file). By hand, d = b - a per image:
  //   seed 0: d = (1, -1, 2, 0): mean 0.5, deviations (0.5, -1.5, 1.5, -0.5), sum of squares 5,
  //           sd sqrt(5/3) = 1.290994, SE 1.290994 / 2 = 0.645497
  //   seed 1: d = (2, 0, 1, 1) on images 0-3 (b's image 4 has no partner): mean 1, sum of squares 2,
  //           sd sqrt(2/3) = 0.816497, SE 0.408248
  //   over seeds: mean (0.5 + 1) / 2 = 0.75, sd sqrt((0.0625 + 0.0625) / 1) = 0.353553
  write_scored_run(dir.path() / "prior=a,seed=0", 0, {{0, -100}, {1, -90}, {2, -80}, {3, -70}});
  write_scored_run(dir.path() / "prior=a,seed=1", 1, {{0, -50}, {1, -60}, {2, -70}, {3, -80}});
  write_scored_run(dir.path() / "prior=b,seed=0", 0, {{0, -99}, {1, -91}, {2, -78}, {3, -70}});
  write_scored_run(dir.path() / "prior=b,seed=1", 1, {{0, -48}, {1, -60}, {2, -69}, {3, -79}, {4, -1}});
  test::write_text(dir.path() / "prior=c,seed=0" / "run.json", R"({"status": "completed"})");
  test::write_text(dir.path() / "prior=c,seed=0" / "config.json", R"({"seed": 0, "prior": "x"})");
  test::write_text(dir.path() / "prior=c,seed=0" / "summary.json", R"({"evaluators": {"loglik": {"nll": 80}}})");

  const Comparison c = compare_runs(dir.path(), {"nll"});
  const PairedComparison p = compare_paired(c, "prior=a");
  ASSERT_EQ(p.rows.size(), 1u);
  const PairedRow& b = p.rows[0];
  EXPECT_EQ(b.label, "prior=b");
  ASSERT_EQ(b.pairs.size(), 2u);
  EXPECT_EQ(b.pairs[0].seed, 0);
  EXPECT_EQ(b.pairs[0].n, 4);
  EXPECT_NEAR(b.pairs[0].mean, 0.5, 1e-12);
  EXPECT_NEAR(b.pairs[0].standard_error, std::sqrt(5.0 / 3.0) / 2.0, 1e-12);
  EXPECT_EQ(b.pairs[1].n, 4);
  EXPECT_NEAR(b.pairs[1].mean, 1.0, 1e-12);
  EXPECT_NEAR(b.pairs[1].standard_error, std::sqrt(2.0 / 3.0) / 2.0, 1e-12);
  EXPECT_NEAR(b.mean, 0.75, 1e-12);
  EXPECT_NEAR(b.std, std::sqrt(0.125), 1e-12);
  ASSERT_EQ(p.unpaired.size(), 1u);
  EXPECT_EQ(p.unpaired[0], "prior=c: no run has artefacts/loglik_per_example.csv");
  const std::string md = paired_markdown(p);
  EXPECT_NE(md.find("| prior=b | 2 | 0.75 ± 0.3536 | seed 0: 0.5 ± 0.6455 (4); seed 1: 1 ± 0.4082 (4) |"),
            std::string::npos)
      << md;

  // Through the CLI: the table, and the file.
  const auto r = test::run_cli("compare . --metrics nll --paired prior=a", dir.str());
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("| prior=b | 2 | 0.75 ± 0.3536 |"), std::string::npos) << r.output;
  EXPECT_EQ(test::read_text(dir.path() / "comparison_paired.md"), md);
  // A reference no row has, and a malformed file, are located errors.
  const auto bad = test::run_cli("compare . --paired prior=z", dir.str());
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.output.find("--paired prior=z: no row of . is named so (rows: prior=a, prior=b, prior=c)"),
            std::string::npos)
      << bad.output;
  test::write_text(dir.path() / "prior=b,seed=1" / "artefacts" / "loglik_per_example.csv",
                   "index,log_px,elbo,rate,distortion\n0,-48,0,0,0\n1,oops,0,0,0\n");
  try {
    compare_paired(compare_runs(dir.path(), {"nll"}), "prior=a");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), (dir.path() / "prior=b,seed=1" / "artefacts" / "loglik_per_example.csv").string() +
                                         ":3: expected an index and a log p(x), found \"1,oops,0,0,0\"");
  }
}

// Table 1's sweep banked a run written before the "distributed" section existed; the sweep
// resolved its config.json under the new defaults and skipped it, but compare keyed the file as
// written and split that combination into two rows. With the registry, compare resolves as the
// sweep does: the old run and a new one of the same pipeline form one row (n = 2), and a run
// whose pipeline really differs still forms its own.
TEST(Compare, RunsWrittenBeforeAnOptionExistedGroupWithTheirCombination) {
  test::TempDir dir;
  const json resolved = host::resolve_pipeline(test::registry(), test::small_pipeline(), "p.json", "p");
  ASSERT_TRUE(resolved.contains("distributed"));
  json old = resolved;
  old.erase("distributed");  // as a run written before the option existed
  json other = resolved;
  other["training"]["iterations"] = resolved["training"]["iterations"].get<std::int64_t>() + 1;
  const std::vector<std::pair<std::string, json>> runs = {
      {"prior=a,seed=0", old}, {"prior=a,seed=1", resolved}, {"prior=a,seed=2", other}};
  for (const auto& [name, config] : runs) {
    write_run(dir.path() / name, 0.1, -10, 3);
    test::write_text(dir.path() / name / "config.json", config.dump(2));
  }
  const Comparison as_written = compare_runs(dir.path());
  EXPECT_EQ(as_written.rows.size(), 3u) << "keyed as written, every config differs";
  const Comparison c = compare_runs(dir.path(), {}, &test::registry());
  ASSERT_EQ(c.rows.size(), 2u);
  EXPECT_EQ(c.rows[0].runs.size() + c.rows[1].runs.size(), 3u);
  const auto& pair = c.rows[0].runs.size() == 2 ? c.rows[0] : c.rows[1];
  ASSERT_EQ(pair.runs.size(), 2u);
  std::set<std::string> names;
  for (const auto* r : pair.runs) names.insert(r->name);
  EXPECT_EQ(names, (std::set<std::string>{"prior=a,seed=0", "prior=a,seed=1"}));
}

// Two axes (prior x scheduler), one combination never run: one heat-map per metric, rows the
// first axis's values and columns the second's, each cell the table's mean over seeds (by hand:
// (a, x) mae (0.1 + 0.3) / 2 = 0.2, elbo (-10 - 12) / 2 = -11), NaN for the missing (b, x), and
// the colour direction of the metric's rule. The cells average 2 and 1 runs, so the titles say
// so; once every cell has two runs they do not. A folder with one axis gets no heat-map.
TEST(Compare, TwoAxesGiveOneHeatMapPerMetricWithTheMeansInTheirCells) {
  test::TempDir dir;
  const auto g = dir.path() / "grid";
  write_run(g / "prior=a,scheduler=x,seed=0", 0.1, -10, 3);
  write_run(g / "prior=a,scheduler=x,seed=1", 0.3, -12, 3);
  write_run(g / "prior=a,scheduler=y,seed=0", 0.5, -8, 3);
  write_run(g / "prior=b,scheduler=y,seed=0", 0.7, -9, 3);
  const Comparison c = compare_runs(g, {"mae_rad", "elbo"});
  const auto h = comparison_heatmaps(c);
  ASSERT_EQ(h.size(), 2u);
  EXPECT_EQ(h[0].title, "pendulum_angle.mae_rad (lower is better: bright; means of 1 to 2 runs per cell)");
  EXPECT_EQ(h[0].row_axis, "prior");
  EXPECT_EQ(h[0].column_axis, "scheduler");
  EXPECT_EQ(h[0].row_labels, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(h[0].column_labels, (std::vector<std::string>{"x", "y"}));
  ASSERT_EQ(h[0].values.size(), 2u);
  EXPECT_NEAR(h[0].values[0][0], 0.2, 1e-12);
  EXPECT_EQ(h[0].values[0][1], 0.5);
  EXPECT_TRUE(std::isnan(h[0].values[1][0]));
  EXPECT_EQ(h[0].values[1][1], 0.7);
  EXPECT_TRUE(h[0].lower_is_better);
  EXPECT_EQ(h[1].title, "reconstruction.elbo (higher is better: bright; means of 1 to 2 runs per cell)");
  EXPECT_NEAR(h[1].values[0][0], -11, 1e-12);
  EXPECT_FALSE(h[1].lower_is_better);
  write_run(g / "prior=a,scheduler=y,seed=1", 0.5, -8, 3);
  write_run(g / "prior=b,scheduler=y,seed=1", 0.7, -9, 3);
  const auto even = comparison_heatmaps(compare_runs(g, {"mae_rad", "elbo"}));
  ASSERT_EQ(even.size(), 2u);
  EXPECT_EQ(even[0].title, "pendulum_angle.mae_rad (lower is better: bright)");
  EXPECT_EQ(even[1].title, "reconstruction.elbo (higher is better: bright)");

  const auto r = test::run_cli("compare grid --metrics mae_rad", dir.str());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  test::expect_picture(g / "comparison_heatmap.png");
  EXPECT_EQ(r.output.find("comparison_heatmap.png") != std::string::npos, bool(PRIORLAB_WITH_OPENCV)) << r.output;

  write_grid(dir.path() / "one");
  EXPECT_TRUE(comparison_heatmaps(compare_runs(dir.path() / "one", {"mae_rad"})).empty());
  const auto one = test::run_cli("compare one --metrics mae_rad", dir.str());
  ASSERT_EQ(one.exit_code, 0) << one.output;
  EXPECT_FALSE(fs::exists(dir.path() / "one" / "comparison_heatmap.png"));
}

// A heat-map whose values do not match its labels is refused with the picture's path.
TEST(Compare, HeatMapWithValuesThatDoNotMatchItsLabelsIsAnError) {
  if (!PRIORLAB_WITH_OPENCV) GTEST_SKIP() << "built without pictures";
  test::TempDir dir;
  HeatMap h;
  h.title = "m";
  h.row_labels = {"a", "b"};
  h.column_labels = {"x"};
  h.values = {{1.0}};
  EXPECT_EQ(test::error_place([&] { save_heatmaps((dir.path() / "h.png").string(), {h}); }),
            (dir.path() / "h.png").string());
  h.values = {{1.0}, {2.0, 3.0}};
  EXPECT_THROW(save_heatmaps((dir.path() / "h.png").string(), {h}), Error);
  h.values = {{1.0}, {std::nan("")}};
  EXPECT_TRUE(save_heatmaps((dir.path() / "h.png").string(), {h}));
}

// The collapse section of summary.json becomes metrics: "collapse.all_alive" and each layer's
// "_alive" as 1 or 0, and each layer's active units; a table over them counts the live seeds.
TEST(Compare, TheCollapseSectionGivesEachLayersVerdictAsMetrics) {
  test::TempDir dir;
  const auto run = dir.path() / "runs" / "prior=vhp,seed=0";
  write_run(run, 0.1, -10, 3);
  json s = json::parse(std::ifstream(run / "summary.json"));
  s["collapse"] = json::parse(R"({"all_alive": false, "layers": [
      {"name": "z", "alive": true, "active_units": 2, "dimensions": 2, "rate": 3.8},
      {"name": "zeta", "alive": false, "active_units": 0, "dimensions": 2, "kl": 0.0003}]})");
  test::write_text(run / "summary.json", s.dump());
  const auto r = read_run(run);
  EXPECT_EQ(r.metrics["collapse.all_alive"], 0.0);
  EXPECT_EQ(r.metrics["collapse.z_alive"], 1.0);
  EXPECT_EQ(r.metrics["collapse.z_active_units"], 2.0);
  EXPECT_EQ(r.metrics["collapse.zeta_alive"], 0.0);
  EXPECT_EQ(r.metrics["collapse.zeta_active_units"], 0.0);
  const Comparison c = compare_runs(dir.path() / "runs", {"zeta_alive"});
  ASSERT_EQ(c.metrics, (std::vector<std::string>{"collapse.zeta_alive"}));
  EXPECT_EQ(c.rows.at(0).cells.at(0)->mean, 0.0);
}

