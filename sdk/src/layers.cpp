#include "priorlab/layers.hpp"

#include <algorithm>

#include "priorlab/error.hpp"

namespace priorlab {

namespace {

// One table for every activation: its name, the function apply_activation computes, and the
// module make_mlp's dense layers append (none for "linear"), so that the names are compared in
// one place and a new activation is one line.
struct Activation {
  const char* name;
  torch::Tensor (*apply)(const torch::Tensor&);
  torch::nn::AnyModule (*module)();
};

const std::vector<Activation>& activation_table() {
  static const std::vector<Activation> table{
      {"relu", [](const torch::Tensor& x) { return torch::relu(x); },
       [] { return torch::nn::AnyModule(torch::nn::ReLU()); }},
      {"tanh", [](const torch::Tensor& x) { return torch::tanh(x); },
       [] { return torch::nn::AnyModule(torch::nn::Tanh()); }},
      {"elu", [](const torch::Tensor& x) { return torch::elu(x); },
       [] { return torch::nn::AnyModule(torch::nn::ELU()); }},
      {"softplus", [](const torch::Tensor& x) { return torch::softplus(x); },
       [] { return torch::nn::AnyModule(torch::nn::Softplus()); }},
      {"leaky_relu", [](const torch::Tensor& x) { return torch::leaky_relu(x); },
       [] { return torch::nn::AnyModule(torch::nn::LeakyReLU()); }},
      {"linear", [](const torch::Tensor& x) { return x; }, nullptr},
  };
  return table;
}

[[noreturn]] void unknown_choice(const std::string& what, const std::string& value,
                                 const std::vector<std::string>& choices) {
  std::string list;
  for (const auto& c : choices) list += (list.empty() ? "" : ", ") + c;
  throw Error("make_mlp", "unknown " + what + " '" + value + "' (expected one of " + list + ")");
}

const Activation& find_activation(const std::string& name) {
  for (const auto& a : activation_table())
    if (name == a.name) return a;
  unknown_choice("activation", name, mlp_activations());
}

void check_layer(const std::string& layer) {
  const auto layers = mlp_layers();
  if (std::find(layers.begin(), layers.end(), layer) == layers.end()) unknown_choice("layer", layer, layers);
}

}  // namespace

std::vector<std::string> mlp_activations() {
  std::vector<std::string> names;
  for (const auto& a : activation_table()) names.emplace_back(a.name);
  return names;
}
std::vector<std::string> mlp_layers() { return {"dense", "gated"}; }

torch::Tensor apply_activation(const torch::Tensor& x, const std::string& activation) {
  return find_activation(activation).apply(x);
}

GatedDenseImpl::GatedDenseImpl(std::int64_t in, std::int64_t out, const std::string& activation)
    : activation_(activation) {
  find_activation(activation);  // refuses an unknown name here, not at the first forward
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
  const Activation& act = find_activation(activation);
  check_layer(layer);
  torch::nn::Sequential seq;
  std::int64_t width = in;
  for (auto h : hidden) {
    if (layer == "gated") {
      seq->push_back(GatedDense(width, h, activation));
    } else {
      seq->push_back(torch::nn::Linear(width, h));
      if (act.module) seq->push_back(act.module());  // "linear": no module
    }
    width = h;
  }
  seq->push_back(torch::nn::Linear(width, out));
  return seq;
}

}  // namespace priorlab
