// Scheduler "cyclical": cyclical KL annealing (Fu et al. 2019, NAACL), exactly as the authors'
// reference code builds it (haofuml/cyclical_annealing, README.md):
//
//   def frange_cycle_linear(n_iter, start=0.0, stop=1.0, n_cycle=4, ratio=0.5):
//       L = np.ones(n_iter) * stop
//       period = n_iter/n_cycle
//       step = (stop-start)/(period*ratio)
//       for c in range(n_cycle):
//           v, i = start, 0
//           while v <= stop and (int(i+c*period) < n_iter):
//               L[int(i+c*period)] = v
//               v += step
//               i += 1
//       return L
//
// The beta used at step t (counted from 0) is L[t]: within each of the M = n_cycle cycles it
// rises linearly from `start` over the first share R = `ratio` of the cycle, then stays at
// `stop`; past the horizon n_iter it is `stop`. n_iter is the option `steps`, or the run's
// training.iterations when `steps` is 0. The table is built once with the reference's float64
// accumulation (v += step), so beta is L[t] to the bit (start + i * step differs in the last bits).
// beta depends on the step alone; the state is the next step and the horizon.
#include <algorithm>
#include <cstdint>
#include <vector>

#include <fmt/format.h>
#include <priorlab/sdk.hpp>

namespace {

using namespace priorlab;

class CyclicalScheduler : public Scheduler {
 public:
  static OptionSet options() {
    return OptionSet{}
        .add(Option::integer("cycles", 4).min(1).help("number of cycles M over the horizon (n_cycle; reference default 4)"))
        .add(Option::real("ratio", 0.5)
                 .greater_than(0)
                 .max(1)
                 .help("share R of each cycle over which beta rises (reference default 0.5)"))
        .add(Option::real("start", 0.0).min(0).help("beta at the first step of each cycle (reference default 0)"))
        .add(Option::real("stop", 1.0).greater_than(0).help("beta after each ramp (reference default 1)"))
        .add(Option::integer("steps", 0).min(0).help("horizon n_iter in steps; 0 = the run's training.iterations"));
  }

  explicit CyclicalScheduler(const BuildContext& ctx)
      : cycles_(ctx.options.integer("cycles")),
        ratio_(ctx.options.real("ratio")),
        start_(ctx.options.real("start")),
        stop_(ctx.options.real("stop")) {
    // start > stop would give beta = stop throughout in the reference (its loop never runs);
    // start = stop a constant beta, found by a loop over the whole horizon per cycle.
    if (!(start_ < stop_))
      throw Error(ctx.path + "/options/start",
                  fmt::format("must be below stop = {} (for a constant beta use the scheduler `constant`)", stop_));
    const std::int64_t horizon = ctx.options.integer("steps") > 0 ? ctx.options.integer("steps") : ctx.total_steps;
    if (horizon <= 0)
      throw Error(ctx.path + "/options/steps", "the horizon is unknown: set steps, or the run's training.iterations");
    if (cycles_ > horizon)
      throw Error(ctx.path + "/options/cycles",
                  fmt::format("{} cycles do not fit in a horizon of {} steps", cycles_, horizon));
    build(horizon);
  }

  double beta() const override { return beta_at(next_); }
  bool train_prior() const override { return true; }
  std::string phase() const override { return beta_at(next_) < stop_ ? "ramp" : "plateau"; }

  void update(const SchedulerInput& in) override { next_ = in.step + 1; }

  /// "cycle": the cycle (0 .. M-1) of the next step; the last one past the horizon.
  std::map<std::string, double> metrics() const override {
    const auto after = std::upper_bound(cycle_start_.begin(), cycle_start_.end(), next_);
    return {{"cycle", static_cast<double>(std::max<std::ptrdiff_t>(0, after - cycle_start_.begin() - 1))}};
  }

  // The horizon travels with the state: a resume that raises training.iterations keeps the
  // cycles the run started with (beta = stop past them), so it matches the uninterrupted run.
  nlohmann::json state() const override { return {{"next_step", next_}, {"horizon", horizon_}}; }
  void load_state(const nlohmann::json& s) override {
    const auto horizon = s.at("horizon").get<std::int64_t>();
    if (horizon < cycles_)
      throw Error("scheduler state", fmt::format("horizon {} holds fewer steps than the {} cycles", horizon, cycles_));
    if (horizon != horizon_) build(horizon);
    next_ = s.at("next_step").get<std::int64_t>();
  }

 private:
  // frange_cycle_linear, line by line (see the top of this file).
  void build(std::int64_t n_iter) {
    horizon_ = n_iter;
    table_.assign(static_cast<std::size_t>(n_iter), stop_);                            // L = np.ones(n_iter) * stop
    const double period = static_cast<double>(n_iter) / static_cast<double>(cycles_);  // period = n_iter/n_cycle
    const double step = (stop_ - start_) / (period * ratio_);                          // step = (stop-start)/(period*ratio)
    cycle_start_.clear();
    for (std::int64_t c = 0; c < cycles_; ++c) {  // for c in range(n_cycle):
      const double offset = static_cast<double>(c) * period;
      cycle_start_.push_back(static_cast<std::int64_t>(offset));
      double v = start_;  // v, i = start, 0
      for (std::int64_t i = 0;; ++i) {
        const auto t = static_cast<std::int64_t>(static_cast<double>(i) + offset);  // int(i+c*period)
        if (!(v <= stop_ && t < n_iter)) break;  // while v <= stop and (int(i+c*period) < n_iter):
        table_[static_cast<std::size_t>(t)] = v;  // L[int(i+c*period)] = v
        v += step;                                // v += step  (i += 1 in the for)
      }
    }
  }

  double beta_at(std::int64_t t) const { return t >= 0 && t < horizon_ ? table_[static_cast<std::size_t>(t)] : stop_; }

  std::int64_t cycles_;
  double ratio_, start_, stop_;
  std::int64_t horizon_ = 0;
  std::vector<double> table_;               // L[t], t in [0, horizon)
  std::vector<std::int64_t> cycle_start_;   // int(c * period): where cycle c's ramp starts
  std::int64_t next_ = 0;                   // the step whose loss beta() weighs, counted from 0
};

}  // namespace

PRIORLAB_PLUGIN(Scheduler, cyclical, CyclicalScheduler, "1.0.0",
                "cyclical KL annealing (Fu et al. 2019): M cycles, beta rises linearly over a share R of each, then stays")
