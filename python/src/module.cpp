// priorlab._priorlab: the command line's operations (run, resume, validate, evaluate, sweep,
// compare, plugins, describe) over the host library, for the Python package python/priorlab.
// Each calls the same host function as its subcommand in host/cli/main.cpp, with the GIL
// released while it works; Python plugins take the GIL back around their own calls.
#include <atomic>
#include <csignal>
#include <cstdio>
#include <iostream>

#include <fcntl.h>
#include <unistd.h>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <pybind11/stl.h>
#if defined(__SSE__)
#include <xmmintrin.h>
#endif

#include "bindings.hpp"
#include "experiments/evaluate.hpp"
#include "experiments/sweep.hpp"
#include "pipeline/pipeline.hpp"
#include "priorlab/error.hpp"
#include "priorlab/version.hpp"
#include "results/report.hpp"
#include "run/run.hpp"

namespace priorlab::python {

namespace {

host::Registry* g_registry = nullptr;
std::vector<std::string> g_plugin_dirs;

// Ctrl-C during a long call: the host's stop flag, as the command line's handler sets it (the run
// writes a checkpoint and returns 130), instead of Python's handler, which could only act once
// the call is back in Python. Python's own handler is put back afterwards.
std::atomic<bool> g_stop{false};
extern "C" void on_sigint(int) {
  if (g_stop.exchange(true)) std::_Exit(host::kInterrupted);  // second Ctrl-C: leave now
}

class StopOnSigint {
 public:
  StopOnSigint() {
    g_stop = false;
    struct sigaction action {};
    action.sa_handler = on_sigint;
    sigemptyset(&action.sa_mask);
    installed_ = ::sigaction(SIGINT, &action, &previous_) == 0;
  }
  ~StopOnSigint() {
    if (installed_) ::sigaction(SIGINT, &previous_, nullptr);
  }
  StopOnSigint(const StopOnSigint&) = delete;
  StopOnSigint& operator=(const StopOnSigint&) = delete;

 private:
  struct sigaction previous_ {};
  bool installed_ = false;
};

}  // namespace

KeepProcessState::KeepProcessState() : threads_(torch::get_num_threads()) {
#if defined(__SSE__)
  csr_ = _mm_getcsr();
#endif
}
KeepProcessState::~KeepProcessState() {
#if defined(__SSE__)
  _mm_setcsr(csr_);
#endif
  if (torch::get_num_threads() != threads_) torch::set_num_threads(threads_);
}

namespace {

// progress=False: the command's standard output (progress lines, the run's summary) goes to
// /dev/null for the call; errors still reach standard error.
class QuietStdout {
 public:
  explicit QuietStdout(bool quiet) {
    if (!quiet) return;
    std::fflush(stdout);
    std::cout.flush();
    saved_ = ::dup(STDOUT_FILENO);
    const int null = ::open("/dev/null", O_WRONLY);
    if (saved_ >= 0 && null >= 0) ::dup2(null, STDOUT_FILENO);
    if (null >= 0) ::close(null);
  }
  ~QuietStdout() {
    if (saved_ < 0) return;
    std::cout.flush();
    std::fflush(stdout);
    ::dup2(saved_, STDOUT_FILENO);
    ::close(saved_);
  }
  QuietStdout(const QuietStdout&) = delete;
  QuietStdout& operator=(const QuietStdout&) = delete;

 private:
  int saved_ = -1;
};

// Runs a host command with the GIL released and Ctrl-C routed to its stop flag.
template <class F>
int long_call(bool progress, F&& f) {
  KeepProcessState process_state;
  StopOnSigint sigint;
  QuietStdout quiet(!progress);
  py::gil_scoped_release release;
  return f(&g_stop);
}

// A registry of the plugin libraries alone: what the child processes of a sweep see (each is
// the priorlab executable), so a sweep naming a Python plugin is refused before it starts.
const host::Registry& libraries_only() {
  static host::Registry* r = [] {
    auto* fresh = new host::Registry;
    fresh->discover(host::plugin_search_path(g_plugin_dirs));
    return fresh;
  }();
  return *r;
}

nlohmann::json load_config(const std::string& path, const std::string& text, const std::vector<std::string>& set) {
  return text.empty() ? host::load_pipeline(registry(), path, set)
                      : host::load_pipeline(registry(), host::parse_json(text, "<pipeline>"), "<pipeline>", set);
}

}  // namespace

host::Registry& registry() {
  if (!g_registry) throw Error("priorlab", "the module was not initialised (import priorlab, not priorlab._priorlab)");
  return *g_registry;
}

nlohmann::json to_json(const py::handle& value) {
  const std::string text = py::module_::import("json").attr("dumps")(value).cast<std::string>();
  return nlohmann::json::parse(text);
}

py::object from_json(const nlohmann::json& value) {
  return py::module_::import("json").attr("loads")(value.dump());
}

void throw_located(const py::error_already_set& e, const std::string& plugin) {
  std::string where = fmt::format("python plugin '{}'", plugin);
  std::string type = "Exception", message;
  try {
    if (e.type()) type = py::str(e.type().attr("__name__")).cast<std::string>();
    if (e.value()) message = py::str(e.value()).cast<std::string>();
    if (e.trace()) {
      const py::list frames = py::module_::import("traceback").attr("extract_tb")(e.trace());
      if (!frames.empty()) {
        const py::object last = frames[frames.size() - 1];
        where += fmt::format(" ({}:{})", last.attr("filename").cast<std::string>(), last.attr("lineno").cast<int>());
      }
    }
  } catch (const std::exception&) {
    message = e.what();  // the details could not be read; the exception's own text
  }
  throw Error(where, one_line(message.empty() ? type : type + ": " + message));
}

}  // namespace priorlab::python

PYBIND11_MODULE(_priorlab, m) {
  using namespace priorlab;
  using namespace priorlab::python;
  m.doc() = "priorlab's host and plugins (use the package `priorlab`, which wraps this module)";
  m.attr("version") = PRIORLAB_VERSION_STRING;
  m.attr("torch_version") = TORCH_VERSION;

  // priorlab.Error (defined in Python, with .where and .message) for every located error.
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const Error& e) {
      py::object error = py::module_::import("priorlab").attr("Error");
      PyErr_SetObject(error.ptr(), error(e.where(), e.message()).ptr());
    }
  });

  m.def(
      "init",
      [](const std::vector<std::string>& plugin_dirs, const std::string& executable) {
        if (g_registry) return;
        g_plugin_dirs = plugin_dirs;
        auto* r = new host::Registry;
        r->discover(host::plugin_search_path(plugin_dirs));
        g_registry = r;
        if (!executable.empty()) host::set_self_executable(executable);
      },
      py::arg("plugin_dirs"), py::arg("executable"));

  m.def("plugins", [] {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& p : registry().plugins())
      out.push_back({{"name", p.name},
                     {"kind", p.kind},
                     {"version", p.version},
                     {"summary", p.summary},
                     {"library", p.library_path},
                     {"options", p.options.to_json()}});
    return out.dump();
  });
  m.def("refusals", [] { return registry().refusals(); });
  m.def("describe", [](const std::string& name) { return host::format_describe(registry(), name); });

  m.def(
      "validate",
      [](const std::string& path, const std::string& text, const std::vector<std::string>& set) {
        KeepProcessState process_state;
        const auto config = load_config(path, text, set);
        host::build_pipeline(registry(), config, /*data_only=*/true);
        return config.dump();
      },
      py::arg("path"), py::arg("text"), py::arg("set"));

  m.def(
      "run",
      [](const std::string& path, const std::string& text, const std::vector<std::string>& set, const std::string& out,
         const std::string& name, bool force, bool progress) {
        host::RunRequest request;
        request.config_path = path;
        if (!text.empty()) request.config = host::parse_json(text, "<pipeline>");
        request.overrides = set;
        request.out_dir = out;
        request.name = name;
        request.force = force;
        // The run's folder, for the caller to read run.json from when training fails.
        std::string dir;
        const int code = long_call(
            progress, [&](const std::atomic<bool>* stop) { return host::run_pipeline(registry(), request, stop, &dir); });
        return py::make_tuple(code, dir);
      },
      py::arg("path"), py::arg("text"), py::arg("set"), py::arg("out"), py::arg("name"), py::arg("force"),
      py::arg("progress"));

  m.def(
      "resume",
      [](const std::string& run_dir, const std::vector<std::string>& set, bool progress) {
        return long_call(progress, [&](const std::atomic<bool>* stop) { return host::resume_run(registry(), run_dir, set, stop); });
      },
      py::arg("run_dir"), py::arg("set"), py::arg("progress"));

  m.def(
      "evaluate",
      [](const std::string& dir, const std::vector<std::string>& evaluators, std::int64_t checkpoint, int jobs,
         int threads, bool progress) {
        host::EvaluateRequest request;
        request.dir = dir;
        if (checkpoint >= 0) request.checkpoint = checkpoint;
        request.evaluators = evaluators;
        request.jobs = jobs;
        request.threads = threads;
        request.plugin_paths = g_plugin_dirs;
        return long_call(progress,
                         [&](const std::atomic<bool>* stop) { return host::evaluate_runs(registry(), request, stop); });
      },
      py::arg("dir"), py::arg("evaluators"), py::arg("checkpoint"), py::arg("jobs"), py::arg("threads"),
      py::arg("progress"));

  m.def(
      "sweep",
      [](const std::string& path, const std::string& out, int jobs, const std::vector<std::string>& set,
         const std::vector<std::string>& only, const std::string& seeds, const std::vector<std::string>& metrics,
         bool force, bool dry_run, const std::string& run, bool in_process, bool progress) {
        host::SweepRequest request;
        request.run = run;
        request.path = path;
        request.out_dir = out;
        request.jobs = jobs;
        request.overrides = set;
        request.only = only;
        request.seeds = seeds;
        request.metrics = metrics;
        request.force = force;
        request.dry_run = dry_run;
        request.plugin_paths = g_plugin_dirs;
        const host::Registry& plugins = in_process ? registry() : libraries_only();
        return long_call(progress, [&](const std::atomic<bool>* stop) { return host::run_sweep(plugins, request, stop); });
      },
      py::arg("path"), py::arg("out"), py::arg("jobs"), py::arg("set"), py::arg("only"), py::arg("seeds"),
      py::arg("metrics"), py::arg("force"), py::arg("dry_run"), py::arg("run"), py::arg("in_process"),
      py::arg("progress"));

  // The runs a sweep plans (after --only and --seeds), and its default folder.
  m.def(
      "sweep_plan",
      [](const std::string& path, const std::vector<std::string>& only, const std::string& seeds) {
        host::SweepPlan plan = host::load_sweep(path);
        if (!seeds.empty()) host::set_sweep_seeds(plan, seeds);
        for (const auto& o : only) host::filter_sweep(plan, o);
        std::vector<std::string> names;
        for (const auto& r : plan.runs) names.push_back(r.name);
        return py::make_tuple(names, (std::filesystem::path("runs") / plan.name).string());
      },
      py::arg("path"), py::arg("only"), py::arg("seeds"));

  m.def(
      "compare",
      [](const std::string& dir, const std::vector<std::string>& metrics, const std::string& paired) {
        const host::Comparison c = host::compare_command(dir, metrics, paired, &registry());
        return (c.dir / "comparison.csv").string();
      },
      py::arg("dir"), py::arg("metrics"), py::arg("paired"));

  bind_model(m);
  bind_plugins(m);
}
