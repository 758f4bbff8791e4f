// The SDK's layers (priorlab/layers.hpp) against hand computations: GatedDense with each
// activation, make_mlp's dense and gated forms, and its refusals.
#include <cmath>
#include <map>
#include <string>

#include <gtest/gtest.h>

#include <priorlab/sdk.hpp>

namespace {

double sigmoid(double t) { return 1.0 / (1.0 + std::exp(-t)); }

void set(torch::Tensor t, std::vector<double> values) {
  torch::NoGradGuard no_grad;
  t.copy_(torch::tensor(values, torch::kDouble).reshape(t.sizes()));
}

std::map<std::string, torch::Tensor> params(torch::nn::Module& m) {
  std::map<std::string, torch::Tensor> out;
  for (const auto& item : m.named_parameters()) out.emplace(item.key(), item.value());
  return out;
}

}  // namespace

TEST(Layers, GatedDenseAppliesTheActivationToItsFirstFactorOnly) {
  // in 2, out 1: a = 0.5 x1 - x2 + 0.25, gate = sigmoid(x1 + x2 - 2.5); x = (1, 2):
  // a = -1.25, gate = sigmoid(0.5).
  const double a = -1.25, gate = sigmoid(0.5);
  const std::map<std::string, double> expected = {
      {"linear", a * gate},
      {"relu", 0.0},
      {"tanh", std::tanh(a) * gate},
      {"elu", (std::exp(a) - 1.0) * gate},
      {"softplus", std::log1p(std::exp(a)) * gate},
      {"leaky_relu", 0.01 * a * gate},
  };
  ASSERT_EQ(expected.size(), priorlab::mlp_activations().size());
  const auto x = torch::tensor({1.0, 2.0}, torch::kDouble).reshape({1, 2});
  for (const auto& [activation, value] : expected) {
    priorlab::GatedDense layer(2, 1, activation);
    layer->to(torch::kDouble);
    set(layer->h->weight, {0.5, -1});
    set(layer->h->bias, {0.25});
    set(layer->g->weight, {1, 1});
    set(layer->g->bias, {-2.5});
    torch::NoGradGuard no_grad;
    EXPECT_NEAR(layer->forward(x).item<double>(), value, 1e-14) << activation;
    // Leading dimensions pass through: [3, 1, 2] -> [3, 1, 1], each row the same value.
    const auto y = layer->forward(x.expand({3, 1, 2}));
    EXPECT_EQ(y.sizes(), (std::vector<std::int64_t>{3, 1, 1}));
    EXPECT_NEAR(y.sum().item<double>(), 3 * value, 1e-13) << activation;
  }
  EXPECT_THROW(priorlab::GatedDense(2, 1, "sigmoid"), priorlab::Error);
}

TEST(Layers, DenseMlpKeepsItsModuleNumbering) {
  // Linear, activation, Linear, activation, Linear: parameters at 0, 2, 4 (checkpoints of runs made
  // before the gated form existed name them so). "linear" adds no module: 0, 1, 2.
  auto relu = priorlab::make_mlp(3, {4, 5}, 2, "relu");
  auto p = params(*relu);
  EXPECT_EQ(p.at("0.weight").sizes(), (std::vector<std::int64_t>{4, 3}));
  EXPECT_EQ(p.at("2.weight").sizes(), (std::vector<std::int64_t>{5, 4}));
  EXPECT_EQ(p.at("4.weight").sizes(), (std::vector<std::int64_t>{2, 5}));
  EXPECT_EQ(relu->size(), 5u);
  EXPECT_EQ(priorlab::make_mlp(3, {4, 5}, 2, "relu", "dense")->size(), 5u);

  // With "linear" the MLP is the composition of its affine maps: W3 (W2 (W1 x + b1) + b2) + b3.
  auto linear = priorlab::make_mlp(3, {4, 5}, 2, "linear");
  linear->to(torch::kDouble);
  EXPECT_EQ(linear->size(), 3u);
  auto q = params(*linear);
  const auto x = torch::randn({7, 3}, torch::kDouble);
  torch::NoGradGuard no_grad;
  auto by_hand = x.matmul(q.at("0.weight").t()) + q.at("0.bias");
  by_hand = by_hand.matmul(q.at("1.weight").t()) + q.at("1.bias");
  by_hand = by_hand.matmul(q.at("2.weight").t()) + q.at("2.bias");
  EXPECT_LT((linear->forward(x) - by_hand).abs().max().item<double>(), 1e-12);
}

TEST(Layers, GatedMlpIsGatedDenseLayersThenALinearOutput) {
  // in 1, hidden [1], out 2, activation tanh: y = (2 t, -t + 0.5) with
  // t = tanh(3 x - 1) * sigmoid(-x + 0.5); x = 1: t = tanh(2) sigmoid(-0.5).
  auto mlp = priorlab::make_mlp(1, {1}, 2, "tanh", "gated");
  mlp->to(torch::kDouble);
  auto p = params(*mlp);
  ASSERT_EQ(p.size(), 6u);  // 0.h.{weight,bias}, 0.g.{weight,bias}, 1.{weight,bias}
  set(p.at("0.h.weight"), {3});
  set(p.at("0.h.bias"), {-1});
  set(p.at("0.g.weight"), {-1});
  set(p.at("0.g.bias"), {0.5});
  set(p.at("1.weight"), {2, -1});
  set(p.at("1.bias"), {0, 0.5});
  torch::NoGradGuard no_grad;
  const auto y = mlp->forward(torch::ones({1, 1}, torch::kDouble));
  const double t = std::tanh(2.0) * sigmoid(-0.5);
  EXPECT_NEAR(y[0][0].item<double>(), 2 * t, 1e-14);
  EXPECT_NEAR(y[0][1].item<double>(), -t + 0.5, 1e-14);
  // hidden [] gives the single output Linear for either layer kind.
  EXPECT_EQ(priorlab::make_mlp(4, {}, 2, "linear", "gated")->size(), 1u);
}

TEST(Layers, UnknownLayerOrActivationIsRefusedWithTheChoices) {
  try {
    priorlab::make_mlp(2, {3}, 1, "relu", "conv");
    FAIL() << "expected an error";
  } catch (const priorlab::Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("unknown layer 'conv'"), std::string::npos) << what;
    EXPECT_NE(what.find("dense, gated"), std::string::npos) << what;
  }
  try {
    priorlab::make_mlp(2, {3}, 1, "swish");
    FAIL() << "expected an error";
  } catch (const priorlab::Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("unknown activation 'swish'"), std::string::npos) << what;
    EXPECT_NE(what.find("leaky_relu, linear"), std::string::npos) << what;
  }
  EXPECT_THROW(priorlab::apply_activation(torch::zeros({1}), "swish"), priorlab::Error);
}
