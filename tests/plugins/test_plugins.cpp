// Plugins with test behaviour:
//  - objective "nan_after": the ELBO until step `after`, then a NaN loss;
//  - prior "throwing": its constructor throws (priorlab::Error or std::runtime_error).
// Built again to be refused by the host: with PRIORLAB_ABI_VERSION=99 (RENAME=1); with an
// options() that throws (RENAME=2); with the pre-C++11 string ABI (RENAME=3).
#include <stdexcept>

#include <priorlab/sdk.hpp>

namespace {

using namespace priorlab;

class NanAfter : public Objective {
 public:
  static OptionSet options() { return OptionSet{}.add(Option::integer("after", 5).min(0)); }
  explicit NanAfter(const BuildContext& ctx) : after_(ctx.options.integer("after")) {}
  ObjectiveTerms compute(const torch::Tensor& x, Network& network, Prior& prior, double beta) override {
    const auto q = network.encode(x);
    const auto z = sample_diag_gaussian(q);
    const auto params = network.decode(z);
    const auto distortion = -network.log_likelihood(x, params);
    const auto rate = diag_gaussian_log_density(z, q.mu, q.logvar) - prior.log_prob(z);
    ObjectiveTerms t;
    t.loss = (distortion + beta * rate).mean();
    if (calls_++ >= after_) t.loss = t.loss * std::numeric_limits<double>::quiet_NaN();
    t.distortion = distortion.detach();
    t.rate = rate.detach();
    t.squared_error = (x - network.mean(params)).detach().pow(2).flatten(1).sum(1);
    return t;
  }

 private:
  std::int64_t after_, calls_ = 0;
};

class Throwing : public Prior {
 public:
  static OptionSet options() { return OptionSet{}.add(Option::boolean("sdk_error", true)); }
  explicit Throwing(const BuildContext& ctx) {
    if (ctx.options.boolean("sdk_error")) throw Error(ctx.path + "/options", "refusing to be built (test)");
    throw std::runtime_error("a plain std::runtime_error from a constructor (test)");
  }
  torch::Tensor log_prob(const torch::Tensor& z) override { return z; }
  torch::Tensor sample(std::int64_t n) override { return torch::zeros({n}); }
};

}  // namespace

#ifndef PRIORLAB_TEST_RENAME
PRIORLAB_PLUGIN(Objective, nan_after, NanAfter, "0.0.1", "test: NaN loss after N steps")
PRIORLAB_PLUGIN(Prior, throwing, Throwing, "0.0.1", "test: constructor throws")
#elif PRIORLAB_TEST_RENAME == 1
PRIORLAB_PLUGIN(Objective, nan_after_abi99, NanAfter, "0.0.1", "test: built for ABI 99")
#elif PRIORLAB_TEST_RENAME == 2
namespace {
struct ThrowingOptions : NanAfter {
  static OptionSet options() { throw std::runtime_error("options() failed (test)"); }
  using NanAfter::NanAfter;
};
}  // namespace
PRIORLAB_PLUGIN(Objective, nan_after_bad_options, ThrowingOptions, "0.0.1", "test: options() throws")
#else
PRIORLAB_PLUGIN(Objective, nan_after_old_abi, NanAfter, "0.0.1", "test: built with _GLIBCXX_USE_CXX11_ABI=0")
#endif
