// Scheduler "warmup": linear KL warm-up (Sønderby et al. 2016). beta rises linearly from
// `start` to 1 over `epochs` epochs, then stays at 1:
//   beta(e) = start + (1 - start) * min(1, e / epochs),  e = epochs completed (fractional).
#include <algorithm>

#include <priorlab/sdk.hpp>

namespace {

using namespace priorlab;

class WarmupScheduler : public Scheduler {
 public:
  static OptionSet options() {
    return OptionSet{}
        .add(Option::real("epochs", 20).greater_than(0).help("epochs over which beta rises to 1"))
        .add(Option::real("start", 0.0).min(0).max(1).help("beta at the first step"));
  }
  explicit WarmupScheduler(const BuildContext& ctx)
      : epochs_(ctx.options.real("epochs")), start_(ctx.options.real("start")), beta_(start_) {}

  double beta() const override { return beta_; }
  bool train_prior() const override { return true; }
  std::string phase() const override { return beta_ < 1.0 ? "warmup" : "main"; }
  void update(const SchedulerInput& in) override { beta_ = start_ + (1.0 - start_) * std::min(1.0, in.epoch / epochs_); }
  std::map<std::string, double> metrics() const override { return {}; }
  nlohmann::json state() const override { return {{"beta", beta_}}; }
  void load_state(const nlohmann::json& s) override { beta_ = s.at("beta").get<double>(); }

 private:
  double epochs_, start_, beta_;
};

}  // namespace

PRIORLAB_PLUGIN(Scheduler, warmup, WarmupScheduler, "1.0.0", "linear KL warm-up: beta from start (0) to 1 over N epochs")
