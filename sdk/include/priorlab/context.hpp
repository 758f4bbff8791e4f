// What a plugin's factory receives.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include <torch/torch.h>

#include "priorlab/dataset.hpp"
#include "priorlab/network.hpp"
#include "priorlab/options.hpp"

namespace priorlab {

struct BuildContext {
  std::string name;          ///< the plugin's name, as in the pipeline
  std::string path;          ///< JSON path of the plugin's section, for errors ("/prior")
  Options options;           ///< validated against the plugin's declaration, defaults filled
  torch::Device device{torch::kCPU};
  /// The pipeline's floating-point type ("dtype": float32 | float64). The host converts every
  /// module to (device, dtype) after construction; a tensor a plugin creates outside a module
  /// takes both from its inputs, its module, or tensor_options() below.
  torch::Dtype dtype = torch::kFloat;
  std::uint64_t seed = 0;    ///< the pipeline's seed
  std::string data_root;     ///< datasets: where prepared data files live ("data/" by default)
  DataInfo data;             ///< every kind but dataset: the data's shape and labels
  std::int64_t latent_dim = 0;          ///< priors, objectives, evaluators
  std::shared_ptr<Network> network;     ///< priors (VampPrior uses the encoder); not owned as a submodule
  /// Priors: the pipeline's dataset, whose training split a prior may read (the Exemplar VAE's
  /// exemplars, a data-based initialisation); null where a prior is built without data (tests).
  std::shared_ptr<const Dataset> dataset;
  std::int64_t steps_per_epoch = 0;     ///< schedulers
  std::int64_t total_steps = 0;         ///< schedulers

  torch::TensorOptions tensor_options() const { return torch::TensorOptions().dtype(dtype).device(device); }
};

}  // namespace priorlab
