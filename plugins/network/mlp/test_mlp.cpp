// Network "mlp" against a one-unit encoder computed by hand, and the bounds of its log-variance
// head: they keep a posterior that beta << 1 lets shrink without limit finite in float32.
#include <cmath>
#include <string>

#include <gtest/gtest.h>

#include "test_util.hpp"

namespace {

using priorlab::BuildContext;
using priorlab::Network;
using priorlab::test::json;

std::shared_ptr<Network> make_net(const json& options, std::vector<std::int64_t> shape = {2}) {
  BuildContext ctx;
  ctx.data.shape = std::move(shape);
  return priorlab::test::make<Network>("mlp", options, ctx);
}

void set(torch::Tensor t, std::vector<float> values) {
  torch::NoGradGuard no_grad;
  t.copy_(torch::tensor(values).reshape(t.sizes()));
}

// Data of 2 values, D = 1, hidden [1], ReLU: h = relu(x1 - x2); mu = 2 h + 1; logvar = -30 h + 3.
std::shared_ptr<Network> hand_net(const json& bounds) {
  json options = {{"latent_dim", 1}, {"hidden", {1}}, {"activation", "relu"}};
  options.update(bounds);
  auto net = make_net(options);
  auto p = priorlab::test::named_params(*net);
  set(p.at("encoder.0.weight"), {1, -1});
  set(p.at("encoder.0.bias"), {0});
  set(p.at("encoder.2.weight"), {2, -30});
  set(p.at("encoder.2.bias"), {1, 3});
  return net;
}

}  // namespace

TEST(Mlp, EncoderGivesTheValuesComputedByHandWithinItsLogvarBounds) {
  auto net = hand_net(json::object());  // defaults: [-10, 10]
  torch::NoGradGuard no_grad;
  // x = (0.1, 0): h = 0.1, mu = 1.2, logvar = 0.  x = (1, 0): h = 1, logvar = -27 -> floor -10.
  // x = (0, 1): h = 0, logvar = 3.  x = (-5, 0) -> h = 0 as well.
  const auto q = net->encode(torch::tensor({0.1f, 0.0f, 1.0f, 0.0f, 0.0f, 1.0f}).reshape({3, 2}));
  EXPECT_NEAR(q.mu[0][0].item<double>(), 1.2, 1e-6);
  EXPECT_NEAR(q.logvar[0][0].item<double>(), 0.0, 1e-5);
  EXPECT_NEAR(q.mu[1][0].item<double>(), 3.0, 1e-6);
  EXPECT_EQ(q.logvar[1][0].item<double>(), -10.0);
  EXPECT_NEAR(q.logvar[2][0].item<double>(), 3.0, 1e-6);

  // Bounds of the caller's choosing: [-30, 2] lets -27 through and clamps 3 to 2.
  auto wide = hand_net({{"logvar_min", -30.0}, {"logvar_max", 2.0}});
  const auto w = wide->encode(torch::tensor({1.0f, 0.0f, 0.0f, 1.0f}).reshape({2, 2}));
  EXPECT_NEAR(w.logvar[0][0].item<double>(), -27.0, 1e-5);
  EXPECT_EQ(w.logvar[1][0].item<double>(), 2.0);
}

TEST(Mlp, TheLogvarFloorKeepsTheGaussianLogDensityFiniteInFloat32) {
  // Without the floor: logvar = -30 * 4 + 3 = -117 for x = (4, 0). float32 gives exp(117) = inf
  // and (z - mu)^2 * exp(-logvar) = 0 * inf = NaN at z = mu, the NaN that stopped the pendulum
  // run at step 955. With the floor the density at z = mu is the closed form
  // -0.5 (log 2 pi + logvar) = -0.5 (log 2 pi - 10).
  const auto x = torch::tensor({4.0f, 0.0f}).reshape({1, 2});
  auto unbounded = hand_net({{"logvar_min", -1000.0}});
  const auto u = unbounded->encode(x);
  EXPECT_NEAR(u.logvar[0][0].item<double>(), -117.0, 1e-4);
  EXPECT_TRUE(std::isnan(priorlab::diag_gaussian_log_density(u.mu, u.mu, u.logvar).item<double>()));

  auto net = hand_net(json::object());
  const auto q = net->encode(x);
  const double log_q = priorlab::diag_gaussian_log_density(q.mu, q.mu, q.logvar).item<double>();
  EXPECT_NEAR(log_q, -0.5 * (std::log(2 * M_PI) - 10.0), 1e-5);
}

TEST(Mlp, BoundsInTheWrongOrderAreRefusedAtTheOption) {
  EXPECT_EQ(priorlab::test::error_place([] { make_net({{"logvar_min", 3.0}, {"logvar_max", 2.0}}); }),
            "plugin 'mlp': /test/options/logvar_min");
}
