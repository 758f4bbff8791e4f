// Collapse diagnostics (DESIGN §4, "the upper layer can die"): every logging interval the
// trainer measures each stochastic layer on a fixed probe set of training examples, so that no
// run compares a dead layer unknowingly.
//
//   z:     activity_d = Var_n(E_q[z_d | x_n]) (Burda et al. 2016); its rate is the training rate.
//   above: Prior::upper_layers at z = E_q[z | x_n]: activity of E_q[zeta_j | z] and the mean
//          KL(q(zeta_j | z) || p(zeta_j)) (closed form for VHP's Gaussians).
//
// A layer with no active unit is collapsed at that interval. When it has been collapsed for
// `patience` intervals in a row while it trains (z always; an upper layer while the scheduler
// trains the prior), the run prints one warning line; if it wakes again, one more line. The
// metrics record gets "<layer>_active_units" (and "zeta_kl" for an upper layer), and
// summary.json a "collapse" section saying which layers are alive at the end.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "pipeline/pipeline.hpp"
#include "priorlab/diagnostics.hpp"

namespace priorlab::host {

/// The training options that set the diagnostics (pipeline.cpp declares them).
struct CollapseOptions {
  std::int64_t examples = 1000;  ///< probe set size (0: no diagnostics)
  double threshold = kActiveUnitThreshold;  ///< active-unit threshold
  std::int64_t patience = 10;    ///< collapsed intervals in a row before the run says so
};

/// One layer's record across the run.
struct LayerRecord {
  std::string name;
  std::int64_t dimensions = 0, active_units = 0;
  double kl = 0;  ///< upper layers: mean KL to their prior, nats per example; z: the interval's rate
  bool upper = false;
  std::string when_collapsed;
  std::int64_t collapsed_intervals = 0;  ///< in a row, counted while the layer trains
  std::int64_t collapsed_since = -1;     ///< the step of the first of them (-1: alive)
  bool reported = false;                 ///< the warning was printed and the layer has not woken since
};

class CollapseMonitor {
 public:
  CollapseMonitor(Pipeline& pipeline, CollapseOptions options);

  bool enabled() const { return options_.examples > 0; }

  /// Measures every layer at `step` on the probe set, adds its metrics to `record` and returns
  /// the lines to print (a layer that has stayed collapsed for `patience` intervals, or woke).
  /// `prior_trains`: whether the prior's parameters were optimised in this interval.
  std::vector<std::string> observe(std::int64_t step, bool prior_trains, double rate, nlohmann::json& record);

  /// summary.json's "collapse": per layer, alive or not at the last measurement, and a verdict.
  nlohmann::json summary() const;

  /// For checkpoints: the counters, so a resumed run reports what an uninterrupted one would.
  nlohmann::json state() const;
  void load_state(const nlohmann::json& state);

  /// The warning for a layer that has collapsed (its ordinal among the stochastic layers: z is
  /// the first, the prior's first upper layer the second).
  static std::string collapse_line(const LayerRecord& layer, std::size_t ordinal);

 private:
  void measure(std::vector<LayerRecord>& now, double rate);

  Pipeline& p_;
  CollapseOptions options_;
  torch::Tensor probe_;  // [N, *S] on the pipeline's device and dtype
  std::vector<LayerRecord> layers_;
  std::int64_t last_step_ = -1;
};

}  // namespace priorlab::host
