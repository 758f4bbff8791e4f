// Out-of-line destructors: each interface's vtable and type_info live once, in the SDK, so RTTI
// and exceptions agree across the host and every plugin library.
#include "priorlab/dataset.hpp"
#include "priorlab/evaluator.hpp"
#include "priorlab/network.hpp"
#include "priorlab/objective.hpp"
#include "priorlab/prior.hpp"
#include "priorlab/scheduler.hpp"

namespace priorlab {

Dataset::~Dataset() = default;
Network::~Network() = default;
Prior::~Prior() = default;
Objective::~Objective() = default;
Scheduler::~Scheduler() = default;
Evaluator::~Evaluator() = default;

const char* to_string(Split split) {
  switch (split) {
    case Split::Train: return "train";
    case Split::Validation: return "validation";
    case Split::Test: return "test";
  }
  return "?";
}

}  // namespace priorlab
