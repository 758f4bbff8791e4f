// Scheduler "constant": a fixed beta (beta = 1 is plain ELBO training); everything trains.
#include <priorlab/sdk.hpp>

namespace {

using namespace priorlab;

class ConstantScheduler : public Scheduler {
 public:
  static OptionSet options() {
    return OptionSet{}.add(Option::real("beta", 1.0).greater_than(0).help("the weight of the rate term"));
  }
  explicit ConstantScheduler(const BuildContext& ctx) : beta_(ctx.options.real("beta")) {}

  double beta() const override { return beta_; }
  bool train_prior() const override { return true; }
  std::string phase() const override { return "constant"; }
  void update(const SchedulerInput&) override {}
  std::map<std::string, double> metrics() const override { return {}; }
  nlohmann::json state() const override { return nlohmann::json::object(); }
  void load_state(const nlohmann::json&) override {}

 private:
  double beta_;
};

}  // namespace

PRIORLAB_PLUGIN(Scheduler, constant, ConstantScheduler, "1.0.0", "fixed beta (1 = ELBO)")
