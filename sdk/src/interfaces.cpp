// Out-of-line destructors: each interface's vtable and type_info live once, in the SDK, so RTTI
// and exceptions agree across the host and every plugin library.
#include "priorlab/dataset.hpp"
#include "priorlab/error.hpp"
#include "priorlab/evaluator.hpp"
#include "priorlab/network.hpp"
#include "priorlab/objective.hpp"
#include "priorlab/prior.hpp"
#include "priorlab/scheduler.hpp"

namespace priorlab {

Dataset::~Dataset() = default;
Network::~Network() = default;
torch::Tensor Network::params_for_mean(const torch::Tensor&) { return {}; }
Prior::~Prior() = default;
std::int64_t Prior::bound_samples() const { return 0; }
void Prior::set_bound_samples(std::int64_t) {
  throw Error("prior", "this prior has a closed-form log density: it has no number of importance samples to set");
}
DiagGaussian Prior::upper_posterior(const torch::Tensor&) { return {}; }
std::vector<UpperLayer> Prior::upper_layers(const torch::Tensor& z) {
  const DiagGaussian q = upper_posterior(z);
  if (!q.mu.defined()) return {};
  return {UpperLayer{"zeta", q.mu, kl_to_standard_normal_per_dimension(q), ""}};
}
torch::Tensor Prior::log_prob_per_dimension(const torch::Tensor&) { return {}; }
void Prior::begin_step(const PriorStep&) {}
Objective::~Objective() = default;
Scheduler::~Scheduler() = default;
nlohmann::json Scheduler::check_baseline(const ConstraintBaseline&) { return nullptr; }
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
