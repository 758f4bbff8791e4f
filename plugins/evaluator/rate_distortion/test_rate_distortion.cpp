// rate_distortion on a model whose terms are known in closed form: q(z|x) = N(x, I) for x on the
// unit circle, p(z) = N(0, I), p(x|z) = N(x; z, I) in 2-D. Then
//   rate       = KL(N(x, I) || N(0, I)) = |x|^2 / 2 = 0.5
//   distortion = E_z[-log N(x; z, I)] = E|eps|^2 / 2 + log(2 pi) = 1 + log(2 pi) = 2.8379
// and the single-sample estimates over 20,000 examples land within a few standard errors (~0.01).
// Sibling runs with summaries are gathered into the picture.
#include <cmath>

#include <gtest/gtest.h>

#include "circle_model.hpp"

using namespace priorlab;

namespace {

class ManyCirclePoints : public TensorDataset {
 public:
  ManyCirclePoints() {
    info_.shape = {2};
    const auto a = torch::rand({20000}, torch::kDouble) * 2 * M_PI;
    set_split(Split::Test, torch::stack({torch::cos(a), torch::sin(a)}, 1).to(torch::kFloat), torch::Tensor());
  }
};

class UnitGaussianModel : public test::Identity {
 public:
  torch::Tensor log_likelihood(const torch::Tensor& x, const torch::Tensor& params) override {
    return diag_gaussian_log_density(x, params, torch::zeros_like(params));
  }
};

}  // namespace

TEST(RateDistortion, MatchesTheClosedFormAndGathersSiblingRuns) {
  torch::manual_seed(0);
  test::TempDir folder;
  const auto run = folder.path() / "this_run";
  std::filesystem::create_directories(run / "artefacts");
  test::write_text(folder.path() / "other" / "summary.json",
                   R"({"evaluators": {"rate_distortion": {"rate": 3.0, "distortion": 10.0}}})");
  test::write_text(folder.path() / "unrelated" / "summary.json", R"({"evaluators": {}})");

  ManyCirclePoints data;
  UnitGaussianModel net;
  BuildContext two_dims;
  two_dims.latent_dim = 2;
  auto prior = test::make<Prior>("gaussian", test::json::object(), two_dims);
  auto objective = test::make<Objective>("elbo");
  auto eval = test::make<Evaluator>("rate_distortion");
  EvalContext ctx = test::eval_context(&net, prior.get(), &data);
  ctx.objective = objective.get();
  ctx.run_dir = run.string();
  ctx.artefact_dir = (run / "artefacts").string();
  const auto r = eval->evaluate(ctx);
  EXPECT_NEAR(r.metrics.at("rate"), 0.5, 0.03);
  EXPECT_NEAR(r.metrics.at("distortion"), 1 + std::log(2 * M_PI), 0.03);
  EXPECT_DOUBLE_EQ(r.metrics.at("negative_elbo"), r.metrics.at("rate") + r.metrics.at("distortion"));
  EXPECT_EQ(r.metrics.at("runs_plotted"), 2);  // this run and "other"; "unrelated" has no numbers
  test::expect_picture(run / "artefacts" / "rate_distortion.png");
}
