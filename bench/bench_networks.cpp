// Speed of the image networks (Table 3) through the real plugins:
//   BM_NetworkStep/<network>/<threads>  forward + backward of the single-sample negative ELBO
//                                       (Bernoulli, standard normal prior) on a batch of 100,
//                                       no optimiser step
// network: 0 gated_conv and 1 gated_mlp on [1, 28, 28], 2 conv64 on [1, 64, 64].
// Run: scripts/bench.sh --benchmark_filter=BM_NetworkStep (or build/bin/priorlab_bench ...).
#include <benchmark/benchmark.h>

#include <nlohmann/json.hpp>

#include "pipeline/registry.hpp"

using namespace priorlab;
using namespace priorlab::host;
using nlohmann::json;

namespace {

const Registry& network_registry() {
  static const Registry r = [] {
    Registry reg;
    reg.discover({PRIORLAB_PLUGIN_DIR});
    return reg;
  }();
  return r;
}

struct NetworkCase {
  const char* name;
  std::vector<std::int64_t> shape;
};
const NetworkCase kNetworks[] = {{"gated_conv", {1, 28, 28}}, {"gated_mlp", {1, 28, 28}}, {"conv64", {1, 64, 64}}};

void BM_NetworkStep(benchmark::State& state) {
  const auto& c = kNetworks[state.range(0)];
  if (!network_registry().find_any(c.name)) {
    state.SkipWithError((std::string("plugin ") + c.name + " not built").c_str());
    return;
  }
  const int threads_before = torch::get_num_threads();
  torch::set_num_threads(static_cast<int>(state.range(1)));
  torch::manual_seed(0);
  BuildContext ctx;
  ctx.name = c.name;
  ctx.path = "/network";
  ctx.data.shape = c.shape;
  const auto& entry = network_registry().find(c.name, "network", ctx.path);
  ctx.options = Options(entry.options.resolve(json::object(), "/network/options"), "/network/options");
  const auto net = network_registry().create<Network>(ctx);
  const std::int64_t batch = 100;
  std::vector<std::int64_t> sizes{batch};
  sizes.insert(sizes.end(), c.shape.begin(), c.shape.end());
  const auto x = torch::rand(sizes).bernoulli();
  for (auto _ : state) {
    net->zero_grad();
    const auto q = net->encode(x);
    const auto params = net->decode(sample_diag_gaussian(q));
    const auto loss = (-net->log_likelihood(x, params) + kl_to_standard_normal(q)).mean();
    loss.backward();
    benchmark::DoNotOptimize(loss.item<double>());
  }
  state.SetItemsProcessed(state.iterations() * batch);
  state.SetLabel(std::string(c.name) + " threads=" + std::to_string(state.range(1)));
  torch::set_num_threads(threads_before);
}

}  // namespace

BENCHMARK(BM_NetworkStep)
    ->Args({0, 1})
    ->Args({0, 2})
    ->Args({1, 1})
    ->Args({1, 2})
    ->Args({2, 1})
    ->Args({2, 2})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
