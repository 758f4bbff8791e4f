// priorlab.load(run_dir): a trained model from a run folder (config.json and a checkpoint),
// rebuilt and restored as `priorlab evaluate` does, with its networks and prior callable on
// torch tensors. The same class views the model an evaluator written in Python is given.
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include <fmt/format.h>
#include <pybind11/stl.h>

#include "bindings.hpp"
#include "engine/trainer.hpp"
#include "pipeline/pipeline.hpp"
#include "priorlab/error.hpp"

namespace priorlab::python {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// What a loaded model owns: the pipeline, and the trainer that read the checkpoint into it.
struct LoadedRun {
  host::Pipeline pipeline;
  std::unique_ptr<host::Trainer> trainer;
};

Split split_named(const std::string& name) {
  if (name == "train") return Split::Train;
  if (name == "validation") return Split::Validation;
  if (name == "test") return Split::Test;
  throw Error("split", fmt::format("expected 'train', 'validation' or 'test', found '{}'", name));
}

}  // namespace

/// The model of a run: non-owning pointers into a pipeline, and (for load()) its owner.
class Model {
 public:
  Network* network = nullptr;
  Prior* prior = nullptr;
  Objective* objective = nullptr;
  const Dataset* dataset = nullptr;
  torch::Device device{torch::kCPU};
  torch::Dtype dtype = torch::kFloat;
  std::uint64_t seed = 0;
  std::int64_t step = 0;
  std::string run_dir;
  std::shared_ptr<LoadedRun> owner;
  /// The run's training.flush_denormal, applied around each call of a loaded model (and the
  /// caller's mode put back after), so it computes as the run's evaluators did. A view inside
  /// an evaluation is already in that mode (unset).
  std::optional<bool> flush_denormal;

  struct FloatMode {
    KeepProcessState keep;
    explicit FloatMode(const std::optional<bool>& on) {
      if (on) host::set_flush_denormal(*on);
    }
  };

  static Model view(const EvalContext& ctx) {
    Model m;
    m.network = ctx.network;
    m.prior = ctx.prior;
    m.objective = ctx.objective;
    m.dataset = ctx.dataset;
    m.device = ctx.device;
    m.dtype = ctx.dtype;
    m.seed = ctx.seed;
    m.run_dir = ctx.run_dir;
    return m;
  }

  torch::Tensor input(const torch::Tensor& x) const { return x.to(device, dtype); }

  std::pair<torch::Tensor, torch::Tensor> encode(const torch::Tensor& x) const {
    FloatMode mode(flush_denormal);
    torch::NoGradGuard no_grad;
    const DiagGaussian q = network->encode(input(x));
    return {q.mu, q.logvar};
  }
  torch::Tensor decode(const torch::Tensor& z) const {
    FloatMode mode(flush_denormal);
    torch::NoGradGuard no_grad;
    return network->mean(network->decode(input(z)));
  }
  torch::Tensor decode_params(const torch::Tensor& z) const {
    FloatMode mode(flush_denormal);
    torch::NoGradGuard no_grad;
    return network->decode(input(z));
  }
  torch::Tensor sample_latent(std::int64_t n) const {
    FloatMode mode(flush_denormal);
    torch::NoGradGuard no_grad;
    return prior->sample(n);
  }
  torch::Tensor sample(std::int64_t n) const { return decode(sample_latent(n)); }
  torch::Tensor log_prob(const torch::Tensor& z) const {
    FloatMode mode(flush_denormal);
    torch::NoGradGuard no_grad;
    return prior->log_prob(input(z));
  }
  torch::Tensor log_likelihood(const torch::Tensor& x, const torch::Tensor& z) const {
    FloatMode mode(flush_denormal);
    torch::NoGradGuard no_grad;
    return network->log_likelihood(input(x), network->decode(input(z)));
  }
  torch::Tensor elbo(const torch::Tensor& x) const {
    FloatMode mode(flush_denormal);
    torch::NoGradGuard no_grad;
    const ObjectiveTerms t = objective->compute(input(x), *network, *prior, 1.0);
    return -(t.distortion + t.rate);
  }
  std::pair<torch::Tensor, torch::Tensor> data(const std::string& split, std::int64_t limit) const {
    const Split s = split_named(split);
    std::int64_t n = dataset->size(s);
    if (n == 0) throw Error("split", fmt::format("the dataset has no {} split", split));
    if (limit >= 0) n = std::min(n, limit);
    const Batch b = dataset->get(s, torch::arange(n, torch::kLong), seed);
    return {b.x, b.label};
  }
  std::int64_t latent_dim() const { return network->latent_dim(); }
};

namespace {

Model load(const std::string& run_dir, std::optional<std::int64_t> checkpoint) {
  KeepProcessState process_state;
  const fs::path dir(run_dir);
  const fs::path config_path = dir / "config.json";
  const json config = host::read_json_or_null(config_path);
  if (!config.is_object()) throw Error(run_dir, "not a run directory (no readable config.json)");
  const json resolved = host::resolve_pipeline(registry(), config, config_path.string(), dir.filename().string());
  const auto chosen =
      host::find_checkpoint(run_dir, checkpoint, "load", fmt::format("checkpoint={}", checkpoint.value_or(0)));
  auto owner = std::make_shared<LoadedRun>();
  owner->pipeline = host::build_pipeline(registry(), resolved);
  owner->trainer = std::make_unique<host::Trainer>(owner->pipeline, run_dir, false);
  owner->trainer->load_checkpoint(chosen.second);
  owner->pipeline.network->eval();
  owner->pipeline.prior->eval();
  Model m;
  host::Pipeline& p = owner->pipeline;
  m.network = p.network.get();
  m.prior = p.prior.get();
  m.objective = p.objective.get();
  m.dataset = p.dataset.get();
  m.device = p.device;
  m.dtype = p.dtype;
  m.seed = p.seed;
  m.step = chosen.first;
  m.flush_denormal = resolved["training"]["flush_denormal"].get<bool>();
  m.run_dir = run_dir;
  m.owner = std::move(owner);
  return m;
}

// One prior on its own, compiled or registered from Python, as a pipeline's "/prior" section
// with these options would build it (no network, no data): to try a prior's log_prob, its
// gradient and its samples without training.
std::shared_ptr<Prior> make_prior(const std::string& name, const std::string& options, std::int64_t latent_dim,
                                  const std::string& dtype, std::uint64_t seed) {
  KeepProcessState process_state;
  const host::PluginEntry& entry = registry().find(name, Prior::kind, "/prior");
  BuildContext ctx;
  ctx.name = name;
  ctx.path = "/prior";
  ctx.options = Options(entry.options.resolve(host::parse_json(options, "options"), "/prior/options"), "/prior/options");
  ctx.latent_dim = latent_dim;
  ctx.dtype = host::select_dtype(dtype);
  ctx.seed = seed;
  torch::manual_seed(seed);
  auto prior = registry().create<Prior>(ctx);
  prior->to(ctx.dtype);
  return prior;
}

}  // namespace

py::object model_view(const EvalContext& ctx) { return py::cast(Model::view(ctx)); }

void bind_model(py::module_& m) {
  using release = py::call_guard<py::gil_scoped_release>;
  py::class_<Model>(m, "Model", "A trained model: use priorlab.load(run_dir)")
      .def_readonly("step", &Model::step)
      .def_readonly("run_dir", &Model::run_dir)
      .def_property_readonly("latent_dim", &Model::latent_dim)
      .def_property_readonly("device", [](const Model& self) { return self.device.str(); })
      .def_property_readonly("dtype", [](const Model& self) { return std::string(self.dtype == torch::kDouble ? "float64" : "float32"); })
      .def("encode", &Model::encode, py::arg("x"), release())
      .def("decode", &Model::decode, py::arg("z"), release())
      .def("decode_params", &Model::decode_params, py::arg("z"), release())
      .def("sample", &Model::sample, py::arg("n"), release())
      .def("sample_latent", &Model::sample_latent, py::arg("n"), release())
      .def("log_prob", &Model::log_prob, py::arg("z"), release())
      .def("log_likelihood", &Model::log_likelihood, py::arg("x"), py::arg("z"), release())
      .def("elbo", &Model::elbo, py::arg("x"), release())
      .def("data", &Model::data, py::arg("split"), py::arg("limit"), release());
  m.def("load", &load, py::arg("run_dir"), py::arg("checkpoint"), release());

  // Gradients flow here (no NoGradGuard): log_prob(z).sum().backward() reaches the parameters.
  py::class_<Prior, std::shared_ptr<Prior>>(m, "NativePrior", "A prior built on its own: priorlab.make_prior")
      .def("log_prob", [](Prior& self, const torch::Tensor& z) { return self.log_prob(z); }, py::arg("z"), release())
      .def("sample", [](Prior& self, std::int64_t n) { return self.sample(n); }, py::arg("n"), release())
      .def("named_parameters", [](Prior& self) {
        std::vector<std::pair<std::string, torch::Tensor>> out;
        for (const auto& item : self.named_parameters()) out.emplace_back(item.key(), item.value());
        return out;
      })
      .def("train", [](Prior& self, bool on) { self.train(on); }, py::arg("on") = true);
  m.def("make_prior", &make_prior, py::arg("name"), py::arg("options"), py::arg("latent_dim"), py::arg("dtype"),
        py::arg("seed"), release());
}

}  // namespace priorlab::python
