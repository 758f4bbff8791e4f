// Speed of the pieces of a training step on the pendulum, through the real plugins:
//   BM_TrainStep/<prior>/<K>/<batch>  one optimiser step (batch draw, objective, backward, Adam)
//   BM_BatchDraw/<batch>              the dataset's share of a step
//   BM_PriorLogProb/<prior>/<K>       log p(z) alone (the VHP bound is K samples deep)
// Run: scripts/bench.sh (results are written up in docs/performance.md).
#include <benchmark/benchmark.h>

#include <nlohmann/json.hpp>

#include "engine/fused_adam.hpp"
#include "engine/malloc_tuning.hpp"
#include "pipeline/pipeline.hpp"
#include "pipeline/registry.hpp"
#include "priorlab/graph.hpp"

using namespace priorlab;
using namespace priorlab::host;
using nlohmann::json;

namespace {

const Registry& registry() {
  static const Registry r = [] {
    Registry reg;
    reg.discover({PRIORLAB_PLUGIN_DIR});
    return reg;
  }();
  return r;
}

json pipeline(const std::string& prior, std::int64_t samples, std::int64_t batch) {
  json prior_section = {{"plugin", prior}};
  if (prior == "vhp") prior_section["options"] = {{"samples", samples}};
  return {{"device", "cpu"},
          {"dataset", {{"plugin", "pendulum"}, {"options", {{"size", 4000}}}}},
          {"network", {{"plugin", "mlp"}, {"options", {{"hidden", {256, 256}}}}}},
          {"prior", prior_section},
          {"training", {{"batch_size", batch}}}};
}

const char* prior_name(std::int64_t index) { return index == 0 ? "gaussian" : "vhp"; }

void BM_TrainStep(benchmark::State& state) {
  const std::string prior = prior_name(state.range(0));
  if (!registry().find_any(prior)) {
    state.SkipWithError(("plugin " + prior + " not built").c_str());
    return;
  }
  const auto batch = state.range(2);
  Pipeline p = build_pipeline(registry(), resolve_pipeline(registry(), pipeline(prior, state.range(1), batch), "bench", "bench"));
  torch::optim::Adam opt(p.network->parameters(), torch::optim::AdamOptions(1e-4));
  std::vector<torch::Tensor> prior_params = p.prior->parameters();
  std::unique_ptr<torch::optim::Adam> opt_prior;
  if (!prior_params.empty()) opt_prior = std::make_unique<torch::optim::Adam>(prior_params, torch::optim::AdamOptions(1e-4));
  std::int64_t step = 0;
  const auto n = p.dataset->size(Split::Train);
  for (auto _ : state) {
    const auto idx = torch::arange((step * batch) % (n - batch), (step * batch) % (n - batch) + batch);
    const auto x = p.dataset->get(Split::Train, idx, step).x;
    opt.zero_grad();
    if (opt_prior) opt_prior->zero_grad();
    const auto terms = p.objective->compute(x, *p.network, *p.prior, 0.5);
    terms.loss.backward();
    opt.step();
    if (opt_prior) opt_prior->step();
    benchmark::DoNotOptimize(terms.loss.item<double>());
    ++step;
  }
  state.SetItemsProcessed(state.iterations() * batch);
  state.SetLabel(prior + (prior == "vhp" ? " K=" + std::to_string(state.range(1)) : ""));
}

// One optimiser step over the Table 3 pendulum model's parameter tensors (network and VHP prior,
// 926,476 values): LibTorch's Adam (0) against the trainer's FusedAdam (1).
void BM_AdamStep(benchmark::State& state) {
  json config = pipeline("vhp", 16, 64);
  config["network"]["options"] = {{"hidden", {256, 256, 256, 256}}};
  config["prior"]["options"] = {{"samples", 16}, {"hidden", {256, 256, 256, 256}}, {"activation", "relu"}};
  Pipeline p = build_pipeline(registry(), resolve_pipeline(registry(), config, "bench", "bench"));
  std::vector<torch::Tensor> params = p.network->parameters();
  for (const auto& t : p.prior->parameters()) params.push_back(t);
  std::int64_t n = 0;
  for (auto& t : params) {
    t.mutable_grad() = torch::randn_like(t);
    n += t.numel();
  }
  std::unique_ptr<torch::optim::Adam> opt;
  if (state.range(0) == 1) opt = std::make_unique<FusedAdam>(params, torch::optim::AdamOptions(1e-4));
  else opt = std::make_unique<torch::optim::Adam>(params, torch::optim::AdamOptions(1e-4));
  for (auto _ : state) opt->step();
  state.SetItemsProcessed(state.iterations() * n);
  state.SetLabel(state.range(0) == 1 ? "FusedAdam" : "torch::optim::Adam");
}

void BM_BatchDraw(benchmark::State& state) {
  Pipeline p = build_pipeline(registry(), resolve_pipeline(registry(), pipeline("gaussian", 1, state.range(0)), "bench", "bench"));
  const auto batch = state.range(0);
  const auto perm = torch::randperm(p.dataset->size(Split::Train));
  std::int64_t i = 0;
  for (auto _ : state) {
    const auto start = (i++ * batch) % (perm.size(0) - batch);
    benchmark::DoNotOptimize(p.dataset->get(Split::Train, perm.slice(0, start, start + batch), i).x.data_ptr());
  }
  state.SetItemsProcessed(state.iterations() * batch);
}

void BM_PriorLogProb(benchmark::State& state) {
  const std::string prior = prior_name(state.range(0));
  if (!registry().find_any(prior)) {
    state.SkipWithError(("plugin " + prior + " not built").c_str());
    return;
  }
  Pipeline p = build_pipeline(registry(), resolve_pipeline(registry(), pipeline(prior, state.range(1), 64), "bench", "bench"));
  torch::NoGradGuard no_grad;
  const auto z = torch::randn({64, 2});
  for (auto _ : state) benchmark::DoNotOptimize(p.prior->log_prob(z).sum().item<double>());
  state.SetItemsProcessed(state.iterations() * 64);
}

}  // namespace

BENCHMARK(BM_TrainStep)->Args({0, 1, 64})->Args({1, 1, 64})->Args({1, 16, 64})->Args({1, 32, 64})->Args({0, 1, 256})->Args({1, 16, 256})->Unit(benchmark::kMillisecond);
BENCHMARK(BM_AdamStep)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_BatchDraw)->Arg(64)->Arg(256)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_PriorLogProb)->Args({0, 1})->Args({1, 1})->Args({1, 16})->Args({1, 32})->Unit(benchmark::kMicrosecond);


// The kNN graph of graph-based interpolation: N prior samples in D dimensions (issue target:
// 10,000 nodes in 32-D in about a second).
static void BM_KnnGraph(benchmark::State& state) {
  const auto points = torch::randn({state.range(0), state.range(1)});
  for (auto _ : state) benchmark::DoNotOptimize(priorlab::knn_graph(points, 18).from.size());
}
BENCHMARK(BM_KnnGraph)->Args({1000, 2})->Args({10000, 32})->Unit(benchmark::kMillisecond);

// The host's malloc settings (host/engine/malloc_tuning.hpp), so that the figures are those of
// `priorlab run`; PRIORLAB_MALLOC_TUNING=0 measures glibc's defaults.
int main(int argc, char** argv) {
  priorlab::host::tune_malloc();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
