// The SDK's version (cmake/ reads it from here) and the plugin ABI version.
#pragma once

#define PRIORLAB_VERSION_MAJOR 0
#define PRIORLAB_VERSION_MINOR 1
#define PRIORLAB_VERSION_PATCH 0
#define PRIORLAB_VERSION_STRING "0.1.0"

// Bump for any change to an interface's virtual methods, to BuildContext or EvalContext, or to
// the handshake records in abi.hpp (added, removed or reordered fields). A plugin built against
// another value is refused before any of its C++ symbols is touched.
#ifndef PRIORLAB_ABI_VERSION
#define PRIORLAB_ABI_VERSION 8  // 3: BuildContext and EvalContext carry the dtype; 4: Network::params_for_mean, Scheduler::check_baseline; 5: option declarations through priorlab_library_options, after the handshake; 6: EvalContext carries the rank, world and collectives of a data-parallel evaluation; 7: Prior::upper_layers (collapse diagnostics); 8: SchedulerInput::rate, Prior::log_prob_per_dimension and Prior::begin_step, BuildContext::dataset (priors that read the training split)
#endif
