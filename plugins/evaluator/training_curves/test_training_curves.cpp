// training_curves on a metrics.jsonl written by hand: the picture appears, the phase switch
// and final beta are read back from the lines, and a corrupt line is a located error.
#if PRIORLAB_WITH_OPENCV
#include <opencv2/imgcodecs.hpp>
#endif

#include <gtest/gtest.h>

#include "test_util.hpp"

using namespace priorlab;
using test::json;

namespace {

EvalResult run_on(const test::TempDir& dir, const std::string& metrics) {
  test::write_text(dir.path() / "metrics.jsonl", metrics);
  std::filesystem::create_directories(dir.path() / "artefacts");
  auto eval = test::make<Evaluator>("training_curves");
  EvalContext ctx;
  ctx.run_dir = dir.str();
  ctx.artefact_dir = (dir.path() / "artefacts").string();
  ctx.progress = [](double, const std::string&) {};
  return eval->evaluate(ctx);
}

}  // namespace

TEST(TrainingCurves, ReadsPhaseSwitchAndFinalBetaAndDrawsThePicture) {
  test::TempDir dir;
  std::string lines;
  // Initial phase for steps 50 and 100, main phase from 150; beta rises from 1e-6.
  for (int i = 1; i <= 6; ++i)
    lines += json{{"step", 50 * i}, {"beta", i <= 2 ? 1e-6 : 1e-6 * std::pow(10.0, i - 2)}, {"phase", i <= 2 ? "initial" : "main"},
                  {"C_hat", 0.1 / i}, {"threshold", 0.02}, {"rate", 3.0 * i}, {"distortion", 100.0 / i}}
                 .dump() + "\n";
  const auto r = run_on(dir, lines);
  EXPECT_EQ(r.metrics.at("initial_phase_end_step"), 150);
  EXPECT_DOUBLE_EQ(r.metrics.at("final_beta"), 1e-2);
  ASSERT_EQ(r.artefacts, test::pictures({"training_curves.png"}));
#if PRIORLAB_WITH_OPENCV
  const cv::Mat img = cv::imread((dir.path() / "artefacts" / "training_curves.png").string());
  EXPECT_GT(img.rows, 400);
  EXPECT_GT(img.cols, 600);
#endif
}

TEST(TrainingCurves, NoInitialPhaseMeansNoSwitchReported) {
  test::TempDir dir;
  const auto r = run_on(dir, R"({"step": 10, "beta": 0.5, "phase": "warmup"})" "\n" R"({"step": 20, "beta": 1.0, "phase": "main"})" "\n");
  EXPECT_EQ(r.metrics.count("initial_phase_end_step"), 0u);
  EXPECT_EQ(r.metrics.at("final_beta"), 1.0);
}

TEST(TrainingCurves, CorruptLineIsALocatedError) {
  test::TempDir dir;
  try {
    run_on(dir, R"({"step": 10, "beta": 0.5})" "\n" R"({"step": 20, "be)" "\n");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.where(), (dir.path() / "metrics.jsonl").string() + ":2");
  }
}
