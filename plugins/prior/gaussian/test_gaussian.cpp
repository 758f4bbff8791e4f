// Prior "gaussian": N(0, I) in closed form, and its per-dimension terms log N(z_j; 0, 1), which
// free bits' per-dimension rate reads (Prior::log_prob_per_dimension); a prior that does not
// factorise (the mixture "mog") says so with an undefined tensor.
#include <cmath>

#include <gtest/gtest.h>

#include "test_util.hpp"

namespace {

using priorlab::BuildContext;
using priorlab::Prior;
using priorlab::test::json;

std::shared_ptr<Prior> make(const std::string& name, std::int64_t latent) {
  BuildContext ctx;
  ctx.latent_dim = latent;
  return priorlab::test::make<Prior>(name, json::object(), ctx);
}

}  // namespace

TEST(GaussianPrior, LogDensityAndItsPerDimensionTermsMatchTheHandComputedStandardNormal) {
  auto prior = make("gaussian", 3);
  prior->to(torch::kDouble);
  const auto z = torch::tensor({{0.5, -1.0, 2.0}, {0.0, 3.0, -0.25}}, torch::kDouble);
  const auto per = prior->log_prob_per_dimension(z);
  ASSERT_TRUE(per.defined());
  ASSERT_EQ(per.sizes(), (std::vector<int64_t>{2, 3}));
  const auto total = prior->log_prob(z);
  for (int b = 0; b < 2; ++b) {
    double sum = 0;
    for (int j = 0; j < 3; ++j) {
      const double v = z[b][j].item<double>(), want = -0.5 * std::log(2 * M_PI) - 0.5 * v * v;
      EXPECT_NEAR(per[b][j].item<double>(), want, 1e-12) << b << "," << j;
      sum += want;
    }
    EXPECT_NEAR(total[b].item<double>(), sum, 1e-12);
  }
  // [K, B, D] samples keep their shape.
  EXPECT_EQ(prior->log_prob_per_dimension(torch::randn({4, 2, 3}, torch::kDouble)).sizes(),
            (std::vector<int64_t>{4, 2, 3}));
}

TEST(GaussianPrior, AMixturePriorDoesNotFactoriseAndReturnsNoPerDimensionTerms) {
  auto mog = make("mog", 2);
  EXPECT_FALSE(mog->log_prob_per_dimension(torch::randn({5, 2})).defined());
}
