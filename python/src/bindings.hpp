// What the three files of the Python module share (module.cpp, model.cpp, python_plugins.cpp).
#pragma once

#include <string>

#include <nlohmann/json.hpp>
#include <torch/csrc/utils/pybind.h>

#include "pipeline/registry.hpp"

namespace priorlab::python {

namespace py = pybind11;

/// The process's registry: the plugin libraries found by init() and the plugins registered
/// from Python. Never destroyed (plugin code must outlive every object the interpreter holds).
host::Registry& registry();

/// A value between C++ and Python through JSON text (json.dumps / json.loads): configs,
/// summaries, option declarations and scheduler state are all JSON already.
nlohmann::json to_json(const py::handle& value);
py::object from_json(const nlohmann::json& value);

/// The Python exception `e` (GIL held) as the error every plugin failure becomes: located at the
/// plugin and at the innermost Python frame, "python plugin 'my_mog' (mog.py:23)", with the
/// exception's type and message on one line.
[[noreturn]] void throw_located(const py::error_already_set& e, const std::string& plugin);

/// What building a pipeline changes for the whole process, saved and put back when destroyed:
/// the calling thread's floating-point mode (MXCSR: training.flush_denormal sets flush-to-zero
/// on it, and it is the interpreter's thread) and LibTorch's intra-op thread count
/// (training.threads). numpy, Python's floats and torch in the notebook keep their own.
class KeepProcessState {
 public:
  KeepProcessState();
  ~KeepProcessState();
  KeepProcessState(const KeepProcessState&) = delete;
  KeepProcessState& operator=(const KeepProcessState&) = delete;

 private:
  unsigned csr_ = 0;
  int threads_ = 0;
};

void bind_model(py::module_& m);
void bind_plugins(py::module_& m);

}  // namespace priorlab::python
