// Precision and device: every shipped pipeline, shortened, trains and evaluates with
// "dtype": "float64" on the test device (PRIORLAB_TEST_DEVICE, the CPU when unset).
//
// The host converts every module to (device, dtype); a plugin that creates a tensor with the
// default options (float32, CPU) instead of its inputs' or its module's shows up here: float64
// against float32 is an error in matrix products and convolutions, and a wrong dtype at an
// interface boundary (encode, decode, log_prob, sample, the objective's terms, parameters and
// buffers) is checked directly. On a CPU-only build this is how a tensor left on the CPU, which
// would break a CUDA run, is found.
#include <algorithm>
#include <chrono>
#include <iostream>
#include <set>

#include <gtest/gtest.h>

#include "engine/trainer.hpp"
#include "run/run.hpp"
#include "test_util.hpp"

using namespace priorlab;
using namespace priorlab::host;
using test::json;
namespace fs = std::filesystem;

namespace {

// The side of the images a file-backed dataset would give (its networks are built for it).
std::int64_t image_side(const json& dataset) {
  const std::string name = dataset.at("plugin");
  if (name == "image_folder") return dataset.value("options", json::object()).value("image_size", 64);
  if (name == "features_csv") return 16;
  return 28;  // mnist, fashion_mnist, static_mnist, omniglot
}

// A shipped pipeline made short: 3 steps of 4 examples, a small dataset, 8 VampPrior components,
// cheap evaluator settings (the code paths stay those of the shipped pipeline). Datasets
// that read prepared files (which no test may download) are stood in by the generated pendulum
// with the same image side; their readers have tests of their own, and every reader hands the
// trainer float CPU tensors, which the host converts to the pipeline's device and dtype.
json shortened(json c, const std::string& dtype) {
  c["dtype"] = dtype;
  c["device"] = test::device();
  auto& t = c["training"];
  t["iterations"] = 3;
  t["log_every"] = 1;
  t["checkpoint_every"] = 0;
  // Small batches: convolutions in float64 take LibTorch's slow path on the CPU (the gated_conv
  // step at batch 16 took 5 s here).
  t["batch_size"] = std::min<std::int64_t>(t.value("batch_size", 64), 4);
  t.erase("threads");
  if (c["prior"]["plugin"] == "vampprior") c["prior"]["options"]["components"] = 8;  // each step encodes them all
  const bool generated = c["dataset"]["plugin"] == "pendulum";
  if (generated) {
    c["dataset"]["options"]["size"] = 120;
  } else {
    c["dataset"] = {{"plugin", "pendulum"}, {"options", {{"size", 120}, {"image_size", image_side(c["dataset"])}}}};
  }
  for (auto& e : c["evaluators"]) {
    const std::string name = e.at("plugin");
    auto& o = e["options"];
    if (o.is_null()) o = json::object();
    if (name == "loglik") o.update({{"samples", 6}, {"limit", 6}, {"batch_size", 3}});
    if (name == "graph_interpolation") o.update({{"nodes", 150}, {"neighbours", 10}, {"endpoints", "random"}});
    if (name == "smoothness") o.update({{"graphs", 1}, {"interpolations", 2}, {"nodes", 150}, {"neighbours", 10}});
    if (name == "latent_plot") o.update({{"points", 40}, {"prior_samples", 40}});
    if (name == "reconstruction") o.update({{"limit", 12}, {"pictures", 8}});
    if (name == "samples") o.update({{"count", 8}});
    if (name == "active_units" || name == "pendulum_angle" || name == "rate_distortion") o["limit"] = 12;
  }
  return c;
}

void expect_tensor(const torch::Tensor& t, torch::Dtype dtype, const torch::Device& device, const std::string& what) {
  ASSERT_TRUE(t.defined()) << what;
  EXPECT_EQ(t.scalar_type(), dtype) << what;
  EXPECT_EQ(t.device().type(), device.type()) << what;
}

void expect_module(torch::nn::Module& m, torch::Dtype dtype, const torch::Device& device, const std::string& what) {
  for (const auto& kv : m.named_parameters()) expect_tensor(kv.value(), dtype, device, what + " parameter " + kv.key());
  for (const auto& kv : m.named_buffers())
    if (kv.value().is_floating_point()) expect_tensor(kv.value(), dtype, device, what + " buffer " + kv.key());
}

// Trains `raw` shortened in `dtype`, checks every interface boundary, runs its evaluators.
void run_in(const std::string& source, const json& raw, const std::string& dtype) {
  SCOPED_TRACE(source + " in " + dtype);
  const json resolved = resolve_pipeline(test::registry(), shortened(raw, dtype), source, "precision");
  EXPECT_EQ(resolved["dtype"], dtype);  // the resolved config records it
  Pipeline p = build_pipeline(test::registry(), resolved);
  const auto want = select_dtype(dtype);
  test::TempDir dir;
  Trainer trainer(p, dir.str(), false);
  ASSERT_NO_THROW(trainer.train());
  ASSERT_EQ(trainer.step(), 3);
  expect_module(*p.network, want, p.device, "network");
  expect_module(*p.prior, want, p.device, "prior");

  torch::NoGradGuard no_grad;
  const auto x = p.dataset->get(Split::Train, torch::arange(4), 0).x.to(p.device, p.dtype);
  const DiagGaussian q = p.network->encode(x);
  expect_tensor(q.mu, want, p.device, "encode: mu");
  expect_tensor(q.logvar, want, p.device, "encode: logvar");
  const auto params = p.network->decode(q.mu);
  expect_tensor(params, want, p.device, "decode");
  expect_tensor(p.network->mean(params), want, p.device, "mean");
  expect_tensor(p.network->log_likelihood(x, params), want, p.device, "log_likelihood");
  expect_tensor(p.prior->log_prob(q.mu), want, p.device, "prior log_prob");
  expect_tensor(p.prior->sample(3), want, p.device, "prior sample");
  const ObjectiveTerms terms = p.objective->compute(x, *p.network, *p.prior, 0.5);
  expect_tensor(terms.loss, want, p.device, "objective loss");
  expect_tensor(terms.distortion, want, p.device, "objective distortion");
  expect_tensor(terms.rate, want, p.device, "objective rate");
  expect_tensor(terms.squared_error, want, p.device, "objective squared_error");

  std::vector<std::string> errors, artefacts;
  const json results = evaluate_pipeline(p, dir.path(), errors, artefacts);
  EXPECT_TRUE(errors.empty()) << errors.front();
  EXPECT_EQ(results.size(), p.evaluators.size());
}

}  // namespace

TEST(Precision, EveryShippedPipelineTrainsAndEvaluatesInFloat64) {
  const auto pipelines = test::shipped_pipelines(/*seed_zero_only=*/true);
  ASSERT_GE(pipelines.size(), 20u);  // 7 pendulum, 10 MNIST, 6 dataset configs, the ablation grid
  std::set<std::string> plugins;
  for (const auto& [source, raw] : pipelines) {
    const auto start = std::chrono::steady_clock::now();
    run_in(source, raw, "float64");
    std::cout << "float64: " << source << " in "
              << std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() << " s" << std::endl;
    for (const char* section : {"network", "prior", "objective", "scheduler"})
      if (raw.contains(section)) plugins.insert(raw[section]["plugin"].get<std::string>());
    for (const auto& e : raw.value("evaluators", json::array())) plugins.insert(e["plugin"].get<std::string>());
  }
  // The shipped pipelines reach every model plugin and every evaluator this tree builds.
  for (const char* name : {"mlp", "gated_conv", "gaussian", "vampprior", "vhp", "elbo", "iwae", "rewo", "geco", "warmup",
                           "constant", "loglik", "graph_interpolation", "smoothness", "active_units", "pendulum_angle"})
    EXPECT_TRUE(plugins.count(name)) << name << " is in no shipped pipeline";
}

TEST(Precision, Float32StaysFloat32) {
  // The default: the main job's pipeline, shortened, keeps every tensor in float32.
  run_in("configs/pendulum/vhp_rewo.json", load_pipeline_file(PRIORLAB_SOURCE_DIR "/configs/pendulum/vhp_rewo.json"),
         "float32");
}

TEST(Precision, DtypeIsValidatedAndSetFromTheCommandLine) {
  test::TempDir dir;
  json c = test::small_pipeline(4);
  c["evaluators"] = json::array();
  test::write_text(dir.path() / "p.json", c.dump());
  const auto bad = test::run_cli("validate p.json --set dtype=float16", dir.str());
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.output.find("/dtype"), std::string::npos) << bad.output;
  EXPECT_NE(bad.output.find("float16"), std::string::npos) << bad.output;
  const auto r = test::run_cli("run p.json --out runs --set dtype=float64", dir.str());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const json config = json::parse(test::read_text(dir.path() / "runs" / "small" / "config.json"));
  EXPECT_EQ(config["dtype"], "float64");
  // The checkpoint holds float64 parameters: a float32 pipeline cannot mistake it for its own.
  torch::serialize::InputArchive archive, network, encoder, layer;
  archive.load_from((dir.path() / "runs" / "small" / "checkpoints" / "step_00000004.pt").string());
  archive.read("network", network);  // submodules are nested archives: network/encoder/0/weight
  network.read("encoder", encoder);
  encoder.read("0", layer);
  torch::Tensor w;
  ASSERT_TRUE(layer.try_read("weight", w));
  EXPECT_EQ(w.scalar_type(), torch::kDouble);
}
