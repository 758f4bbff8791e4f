// Plugins written in Python (priorlab.register): a prior, a scheduler or an evaluator whose
// class derives from priorlab.Prior / Scheduler / Evaluator. Each is wrapped in a C++ object of
// the SDK interface that forwards every call to the Python object, holding the GIL only for
// that call, so the trainer, the checkpoints and the evaluations use it like a compiled one.
//
// A Python prior is a torch.nn.Module rather than a subclass of the C++ Prior: that gives it
// torch.nn.Parameter, state_dict and the optimiser's view of it in Python's own terms. Its
// parameters and buffers are the very tensors the C++ side registers (same TensorImpl), so the
// trainer's optimiser updates them in place, a checkpoint saves them and a resume loads them
// into them (InputArchive assigns in place), and a move to the run's dtype is seen by both.
#include <map>
#include <memory>
#include <string>

#include <fmt/format.h>
#include <pybind11/stl.h>

#include "bindings.hpp"
#include "priorlab/error.hpp"
#include "priorlab/evaluator.hpp"
#include "priorlab/prior.hpp"
#include "priorlab/scheduler.hpp"

namespace priorlab::python {

py::object model_view(const EvalContext& ctx);

namespace {

// A Python object held from C++: released under the GIL, or leaked once the interpreter is gone
// (objects that outlive it, at exit).
class PyRef {
 public:
  explicit PyRef(py::object o) : o_(std::move(o)) {}
  ~PyRef() {
    if (Py_IsInitialized()) {
      py::gil_scoped_acquire gil;
      o_ = py::object();
    } else {
      o_.release();
    }
  }
  PyRef(const PyRef&) = delete;
  PyRef& operator=(const PyRef&) = delete;
  const py::object& get() const { return o_; }

 private:
  py::object o_;
};

// Calls into Python with the GIL; a Python exception becomes a located Error, a result of the
// wrong type an Error naming the method.
template <class F>
auto with_python(const std::string& plugin, const char* method, F&& f) -> decltype(f()) {
  py::gil_scoped_acquire gil;
  try {
    return f();
  } catch (const py::error_already_set& e) {
    throw_located(e, plugin);
  } catch (const py::cast_error& e) {
    throw Error(fmt::format("python plugin '{}'", plugin), fmt::format("{}() returned a value of the wrong type: {}", method, e.what()));
  }
}

std::string parameter_name(std::string name) {
  // C++ module names cannot hold '.', which Python's nested names use ("net.0.weight").
  for (auto& c : name)
    if (c == '.') c = '_';
  return name;
}

class PythonPrior : public Prior {
 public:
  PythonPrior(py::object object, std::string name) : object_(std::move(object)), name_(std::move(name)) {
    const py::object& o = object_.get();
    if (py::hasattr(o, "named_parameters"))
      for (const auto& item : o.attr("named_parameters")()) {
        const auto pair = item.cast<py::tuple>();
        auto t = pair[1].cast<torch::Tensor>();
        register_parameter(parameter_name(pair[0].cast<std::string>()), t, t.requires_grad());
      }
    if (py::hasattr(o, "named_buffers"))
      for (const auto& item : o.attr("named_buffers")()) {
        const auto pair = item.cast<py::tuple>();
        register_buffer(parameter_name(pair[0].cast<std::string>()), pair[1].cast<torch::Tensor>());
      }
  }

  torch::Tensor log_prob(const torch::Tensor& z) override {
    return with_python(name_, "log_prob", [&] { return object_.get().attr("log_prob")(z).cast<torch::Tensor>(); });
  }
  torch::Tensor sample(std::int64_t n) override {
    return with_python(name_, "sample", [&] { return object_.get().attr("sample")(n).cast<torch::Tensor>(); });
  }
  std::int64_t bound_samples() const override {
    return with_python(name_, "bound_samples", [&]() -> std::int64_t {
      const py::object& o = object_.get();
      return py::hasattr(o, "bound_samples") ? o.attr("bound_samples")().cast<std::int64_t>() : 0;
    });
  }
  void set_bound_samples(std::int64_t k) override {
    const bool has = with_python(name_, "set_bound_samples", [&] { return py::hasattr(object_.get(), "set_bound_samples"); });
    if (!has) return Prior::set_bound_samples(k);
    with_python(name_, "set_bound_samples", [&] { object_.get().attr("set_bound_samples")(k); });
  }
  DiagGaussian upper_posterior(const torch::Tensor& z) override {
    return with_python(name_, "upper_posterior", [&]() -> DiagGaussian {
      const py::object& o = object_.get();
      if (!py::hasattr(o, "upper_posterior")) return {};
      const auto pair = o.attr("upper_posterior")(z).cast<py::tuple>();
      return {pair[0].cast<torch::Tensor>(), pair[1].cast<torch::Tensor>()};
    });
  }
  torch::Tensor log_prob_per_dimension(const torch::Tensor& z) override {
    return with_python(name_, "log_prob_per_dimension", [&]() -> torch::Tensor {
      const py::object& o = object_.get();
      return py::hasattr(o, "log_prob_per_dimension") ? o.attr("log_prob_per_dimension")(z).cast<torch::Tensor>()
                                                      : torch::Tensor();
    });
  }
  void begin_step(const PriorStep& step) override {
    with_python(name_, "begin_step", [&] {
      const py::object& o = object_.get();
      if (py::hasattr(o, "begin_step")) o.attr("begin_step")(step.step, step.epoch, step.indices);
    });
  }
  void train(bool on) override {
    Prior::train(on);
    with_python(name_, "train", [&] {
      if (py::hasattr(object_.get(), "train")) object_.get().attr("train")(on);
    });
  }

 private:
  PyRef object_;
  std::string name_;
};

class PythonScheduler : public Scheduler {
 public:
  PythonScheduler(py::object object, std::string name) : object_(std::move(object)), name_(std::move(name)) {}

  double beta() const override {
    return with_python(name_, "beta", [&] { return object_.get().attr("beta")().cast<double>(); });
  }
  bool train_prior() const override {
    return with_python(name_, "train_prior", [&] { return object_.get().attr("train_prior")().cast<bool>(); });
  }
  std::string phase() const override {
    return with_python(name_, "phase", [&] { return object_.get().attr("phase")().cast<std::string>(); });
  }
  void update(const SchedulerInput& in) override {
    with_python(name_, "update", [&] {
      py::dict d;
      d["step"] = in.step;
      d["epoch"] = in.epoch;
      d["nll_per_dim"] = in.nll_per_dim;
      d["squared_error_per_dim"] = in.squared_error_per_dim;
      d["rate"] = in.rate;
      object_.get().attr("update")(d);
    });
  }
  std::map<std::string, double> metrics() const override {
    return with_python(name_, "metrics",
                       [&] { return object_.get().attr("metrics")().cast<std::map<std::string, double>>(); });
  }
  nlohmann::json check_baseline(const ConstraintBaseline& b) override {
    return with_python(name_, "check_baseline", [&] {
      py::dict d;
      d["nll_per_dim"] = b.nll_per_dim;
      d["squared_error_per_dim"] = b.squared_error_per_dim;
      d["examples"] = b.examples;
      return to_json(object_.get().attr("check_baseline")(d));
    });
  }
  nlohmann::json state() const override {
    return with_python(name_, "state", [&] { return to_json(object_.get().attr("state")()); });
  }
  void load_state(const nlohmann::json& state) override {
    with_python(name_, "load_state", [&] { object_.get().attr("load_state")(from_json(state)); });
  }

 private:
  PyRef object_;
  std::string name_;
};

class PythonEvaluator : public Evaluator {
 public:
  PythonEvaluator(py::object object, std::string name) : object_(std::move(object)), name_(std::move(name)) {}

  EvalResult evaluate(const EvalContext& ctx) override {
    return with_python(name_, "evaluate", [&] {
      py::object info = py::module_::import("priorlab").attr("_eval_context")(
          model_view(ctx), ctx.run_dir, ctx.artefact_dir, ctx.seed, ctx.rank, ctx.world);
      py::object result = object_.get().attr("evaluate")(info);
      EvalResult r;
      py::object metrics = result;
      if (py::isinstance<py::tuple>(result)) {
        const auto pair = result.cast<py::tuple>();
        if (pair.size() != 2) throw Error(fmt::format("python plugin '{}'", name_), "evaluate() returned a tuple that is not (metrics, artefacts)");
        metrics = pair[0];
        r.artefacts = pair[1].cast<std::vector<std::string>>();
      }
      r.metrics = metrics.cast<std::map<std::string, double>>();
      return r;
    });
  }

 private:
  PyRef object_;
  std::string name_;
};

// The factory of a registered Python class: the class called with the build context.
template <class Interface, class Adapter>
std::function<std::shared_ptr<void>(const BuildContext&)> factory(py::object cls, std::string name) {
  auto held = std::make_shared<PyRef>(std::move(cls));
  return [held, name](const BuildContext& ctx) -> std::shared_ptr<void> {
    py::gil_scoped_acquire gil;
    try {
      nlohmann::json info{{"name", ctx.name},
                          {"path", ctx.path},
                          {"options", ctx.options.values()},
                          {"device", ctx.device.str()},
                          {"dtype", ctx.dtype == torch::kDouble ? "float64" : "float32"},
                          {"seed", ctx.seed},
                          {"latent_dim", ctx.latent_dim},
                          {"steps_per_epoch", ctx.steps_per_epoch},
                          {"total_steps", ctx.total_steps},
                          {"data", {{"shape", ctx.data.shape}, {"label_name", ctx.data.label_name}, {"binary", ctx.data.binary}}}};
      py::object context = py::module_::import("priorlab").attr("_build_context")(info.dump());
      py::object object = held->get()(context);
      std::shared_ptr<Interface> made = std::make_shared<Adapter>(std::move(object), name);
      return made;
    } catch (const py::error_already_set& e) {
      throw_located(e, name);
    }
  };
}

}  // namespace

void bind_plugins(py::module_& m) {
  m.def(
      "register_plugin",
      [](const std::string& kind, const std::string& name, py::object cls, const std::string& options,
         const std::string& version, const std::string& summary, const std::string& origin) {
        host::PluginEntry entry;
        entry.name = name;
        entry.kind = kind;
        entry.version = version;
        entry.summary = summary;
        entry.library_path = origin;
        entry.options = OptionSet::from_json(nlohmann::json::parse(options));
        if (kind == Prior::kind)
          entry.make = factory<Prior, PythonPrior>(std::move(cls), name);
        else if (kind == Scheduler::kind)
          entry.make = factory<Scheduler, PythonScheduler>(std::move(cls), name);
        else if (kind == Evaluator::kind)
          entry.make = factory<Evaluator, PythonEvaluator>(std::move(cls), name);
        else
          throw Error(fmt::format("plugin '{}'", name), fmt::format("a Python plugin is a prior, a scheduler or an "
                                                                     "evaluator, not a {}", kind));
        registry().add(std::move(entry));
      },
      py::arg("kind"), py::arg("name"), py::arg("cls"), py::arg("options"), py::arg("version"), py::arg("summary"),
      py::arg("origin"));
}

}  // namespace priorlab::python
