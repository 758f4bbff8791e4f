#include "priorlab/layers.hpp"

#include <algorithm>

#include "priorlab/error.hpp"

namespace priorlab {

namespace {

void check_choice(const std::string& what, const std::string& value, const std::vector<std::string>& choices) {
  if (std::find(choices.begin(), choices.end(), value) != choices.end()) return;
  std::string list;
  for (const auto& c : choices) list += (list.empty() ? "" : ", ") + c;
  throw Error("make_mlp", "unknown " + what + " '" + value + "' (expected one of " + list + ")");
}

}  // namespace

std::vector<std::string> mlp_activations() { return {"relu", "tanh", "elu", "softplus", "leaky_relu", "linear"}; }
std::vector<std::string> mlp_layers() { return {"dense", "gated"}; }

torch::Tensor apply_activation(const torch::Tensor& x, const std::string& activation) {
  if (activation == "relu") return torch::relu(x);
  if (activation == "tanh") return torch::tanh(x);
  if (activation == "elu") return torch::elu(x);
  if (activation == "softplus") return torch::softplus(x);
  if (activation == "leaky_relu") return torch::leaky_relu(x);
  if (activation == "linear") return x;
  check_choice("activation", activation, mlp_activations());
  return x;  // not reached
}

GatedDenseImpl::GatedDenseImpl(std::int64_t in, std::int64_t out, const std::string& activation)
    : activation_(activation) {
  check_choice("activation", activation, mlp_activations());
  h = register_module("h", torch::nn::Linear(in, out));
  g = register_module("g", torch::nn::Linear(in, out));
}

torch::Tensor GatedDenseImpl::forward(const torch::Tensor& x) {
  return apply_activation(h->forward(x), activation_) * torch::sigmoid(g->forward(x));
}

GatedConv2dImpl::GatedConv2dImpl(std::int64_t in, std::int64_t out, std::int64_t kernel, std::int64_t stride,
                                 std::int64_t padding) {
  const auto options = torch::nn::Conv2dOptions(in, out, kernel).stride(stride).padding(padding);
  h = register_module("h", torch::nn::Conv2d(options));
  g = register_module("g", torch::nn::Conv2d(options));
}

torch::Tensor GatedConv2dImpl::forward(const torch::Tensor& x) {
  return h->forward(x) * torch::sigmoid(g->forward(x));
}

torch::nn::Sequential make_mlp(std::int64_t in, const std::vector<std::int64_t>& hidden, std::int64_t out,
                               const std::string& activation) {
  return make_mlp(in, hidden, out, activation, "dense");
}

torch::nn::Sequential make_mlp(std::int64_t in, const std::vector<std::int64_t>& hidden, std::int64_t out,
                               const std::string& activation, const std::string& layer) {
  check_choice("activation", activation, mlp_activations());
  check_choice("layer", layer, mlp_layers());
  torch::nn::Sequential seq;
  std::int64_t width = in;
  for (auto h : hidden) {
    if (layer == "gated") {
      seq->push_back(GatedDense(width, h, activation));
    } else {
      seq->push_back(torch::nn::Linear(width, h));
      if (activation == "relu") seq->push_back(torch::nn::ReLU());
      else if (activation == "tanh") seq->push_back(torch::nn::Tanh());
      else if (activation == "elu") seq->push_back(torch::nn::ELU());
      else if (activation == "softplus") seq->push_back(torch::nn::Softplus());
      else if (activation == "leaky_relu") seq->push_back(torch::nn::LeakyReLU());
      // "linear": no module.
    }
    width = h;
  }
  seq->push_back(torch::nn::Linear(width, out));
  return seq;
}

}  // namespace priorlab
