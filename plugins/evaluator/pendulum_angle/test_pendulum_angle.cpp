// pendulum_angle against latent spaces built by hand, where the right answer is known:
// codes on a circle at angle -theta + 0.3 (reversed orientation, offset) give zero error and
// slope 1; noise of known size gives the error of that noise; codes that ignore the angle give
// the error of guessing (pi/2 for a uniform angle).
#include <cmath>

#include <gtest/gtest.h>

#include "priorlab/tensor_dataset.hpp"
#include "test_util.hpp"

using namespace priorlab;

namespace {

// x holds the angle itself; the "encoder" maps it to a chosen latent code.
class AngleData : public TensorDataset {
 public:
  explicit AngleData(std::int64_t n) {
    info_.shape = {1};
    info_.label_name = "angle";
    // Evenly spaced angles: the mean of codes on a circle is then exactly its centre.
    const auto theta = (torch::arange(n, torch::kDouble) * (2 * M_PI / n)).to(torch::kFloat);
    set_split(Split::Test, theta.unsqueeze(1), theta.to(torch::kDouble));
  }
};

class CodeNetwork : public Network {
 public:
  explicit CodeNetwork(std::function<torch::Tensor(const torch::Tensor&)> code) : code_(std::move(code)) {}
  std::int64_t latent_dim() const override { return 2; }
  DiagGaussian encode(const torch::Tensor& x) override {
    const auto mu = code_(x.select(1, 0).to(torch::kDouble));
    return {mu, torch::zeros_like(mu)};
  }
  torch::Tensor decode(const torch::Tensor& z) override { return z; }
  torch::Tensor log_likelihood(const torch::Tensor&, const torch::Tensor& p) override { return p.sum(-1); }
  torch::Tensor mean(const torch::Tensor& p) override { return p; }

 private:
  std::function<torch::Tensor(const torch::Tensor&)> code_;
};

double angle_error(const std::function<torch::Tensor(const torch::Tensor&)>& code, double* slope = nullptr) {
  torch::manual_seed(0);
  AngleData data(4000);
  CodeNetwork net(code);
  BuildContext ctx;
  ctx.data = data.info();
  auto eval = test::make<Evaluator>("pendulum_angle", test::json::object(), ctx);
  const EvalContext e = test::eval_context(&net, nullptr, &data);
  const auto r = eval->evaluate(e);
  if (slope) *slope = r.metrics.at("slope");
  EXPECT_EQ(r.metrics.at("examples"), 4000);
  return r.metrics.at("mae_rad");
}

}  // namespace

TEST(PendulumAngle, ReversedOffsetCircleAnywhereInLatentSpaceHasZeroError) {
  double slope = 0;
  const double err = angle_error(
      [](const torch::Tensor& t) { return torch::stack({3.0 + 2.0 * torch::cos(0.3 - t), -1.0 + 2.0 * torch::sin(0.3 - t)}, 1); },
      &slope);
  EXPECT_LT(err, 1e-6);
  EXPECT_NEAR(slope, 1.0, 1e-6);
}

TEST(PendulumAngle, AnEllipseStillEncodesTheAngleMonotonically) {
  // An ellipse distorts the polar angle (slope ~1, small residual) but never more than the
  // ellipse's own angular distortion: |atan(tan(t)/2) - t| <= atan(1/(2 sqrt 2)) ~ 0.34 rad.
  const double err = angle_error([](const torch::Tensor& t) { return torch::stack({2.0 * torch::cos(t), torch::sin(t)}, 1); });
  EXPECT_GT(err, 0.05);
  EXPECT_LT(err, 0.34);
}

TEST(PendulumAngle, AngularNoiseOfKnownSizeGivesThatError) {
  // Polar angle = theta + e with e ~ N(0, 0.1^2): E|e| = 0.1 sqrt(2/pi) = 0.0798.
  const double err = angle_error([](const torch::Tensor& t) {
    const auto a = t + 0.1 * torch::randn_like(t);
    return torch::stack({torch::cos(a), torch::sin(a)}, 1);
  });
  EXPECT_NEAR(err, 0.1 * std::sqrt(2 / M_PI), 0.006);
}

TEST(PendulumAngle, CodesThatIgnoreTheAngleErrLikeAGuess) {
  // Independent of theta: the best fit predicts a constant; |wrap(theta - c)| for uniform
  // theta has mean pi/2.
  const double err = angle_error([](const torch::Tensor& t) { return torch::randn({t.size(0), 2}, torch::kDouble); });
  EXPECT_NEAR(err, M_PI / 2, 0.1);
}

TEST(PendulumAngle, RefusesDataWithoutAngleLabels) {
  BuildContext ctx;
  ctx.data.label_name = "digit";
  EXPECT_THROW(test::make<Evaluator>("pendulum_angle", test::json::object(), ctx), Error);
}
