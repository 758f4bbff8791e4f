// training.flush_denormal: FTZ/DAZ is a per-thread CPU flag (MXCSR), so it is set on the calling
// thread and on every OpenMP worker that LibTorch's intra-op ops and OpenBLAS compute on (one
// team of at::get_num_threads() threads; libgomp reuses its threads, and threads it creates later
// inherit the flag from the thread that creates them). This file alone is compiled with OpenMP
// (host/pipeline/CMakeLists.txt): at::parallel_for is a header template whose pragmas need it.
#include <algorithm>

#include <ATen/Context.h>
#include <ATen/Parallel.h>

#include "pipeline/pipeline.hpp"

namespace priorlab::host {

void set_flush_denormal(bool on) {
  at::globalContext().setFlushDenormal(on);
#ifdef _OPENMP
  const int n = std::max(1, at::get_num_threads());
#pragma omp parallel num_threads(n)
  at::globalContext().setFlushDenormal(on);
#endif
}

}  // namespace priorlab::host
