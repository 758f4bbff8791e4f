// Prior "exemplar": its density against the Parzen window written out by hand (exact, kNN,
// leave-one-out, the step's subset), its samples' moments against the mixture's, its gradients
// against finite differences, its errors, and its cache as saved state with its schedule.
//
// The encoder of these tests is μ(x) = w·x with one parameter w (1 unless a test changes it),
// so the exemplars' encodings, and every density below, can be written down by hand.
#include <algorithm>
#include <cmath>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "priorlab/tensor_dataset.hpp"
#include "test_util.hpp"

namespace {

using priorlab::BuildContext;
using priorlab::DiagGaussian;
using priorlab::Network;
using priorlab::Prior;
using priorlab::PriorStep;
using priorlab::Split;
using priorlab::test::json;
using Rows = std::vector<std::vector<double>>;

/// μ(x) = w·x (w a parameter), log-variance 0; the decoder is the identity. Double precision.
class ScaledIdentity : public Network {
 public:
  explicit ScaledIdentity(std::int64_t dim) : dim_(dim) {
    w = register_parameter("w", torch::ones({1}, torch::kDouble));
  }
  std::int64_t latent_dim() const override { return dim_; }
  DiagGaussian encode(const torch::Tensor& x) override { return {x * w, torch::zeros_like(x)}; }
  torch::Tensor decode(const torch::Tensor& z) override { return z; }
  torch::Tensor log_likelihood(const torch::Tensor&, const torch::Tensor& p) override { return p.sum(-1); }
  torch::Tensor mean(const torch::Tensor& p) override { return p; }
  torch::Tensor w;

 private:
  std::int64_t dim_;
};

/// The rows of x as the training split (double precision).
class Points : public priorlab::TensorDataset {
 public:
  explicit Points(const torch::Tensor& x) {
    info_.shape = {x.size(1)};
    set_split(Split::Train, x, {});
  }
};

torch::Tensor tensor_of(const Rows& rows) {
  std::vector<double> flat;
  for (const auto& r : rows) flat.insert(flat.end(), r.begin(), r.end());
  return torch::tensor(flat, torch::kDouble).view({static_cast<std::int64_t>(rows.size()), -1});
}

struct Setup {
  std::shared_ptr<ScaledIdentity> net;
  std::shared_ptr<Prior> prior;
  torch::Tensor log_variance;  // the prior's parameter v = log σ²
};

constexpr std::int64_t kStepsPerEpoch = 10;

/// An exemplar prior over the points `x`, in double precision, with log σ² = v.
Setup build(const Rows& x, json options = json::object(), double v = std::log(0.5)) {
  Setup s;
  const auto data = tensor_of(x);
  s.net = std::make_shared<ScaledIdentity>(data.size(1));
  BuildContext ctx;
  ctx.latent_dim = data.size(1);
  ctx.network = s.net;
  ctx.dataset = std::make_shared<Points>(data);
  ctx.data.shape = {data.size(1)};
  ctx.seed = 5;
  ctx.steps_per_epoch = kStepsPerEpoch;
  s.prior = priorlab::test::make<Prior>("exemplar", options, ctx);
  s.prior->to(torch::kDouble);
  s.log_variance = priorlab::test::named_params(*s.prior).at("log_variance");
  torch::NoGradGuard no_grad;
  s.log_variance.fill_(v);
  return s;
}

PriorStep step_of(std::int64_t step, const std::vector<std::int64_t>& rows) {
  PriorStep s;
  s.step = step;
  s.epoch = static_cast<double>(step) / kStepsPerEpoch;
  s.indices = torch::tensor(rows, torch::kLong);
  return s;
}

/// By hand: log[ (1/|members|) Σ_{m ∈ members} Π_d N(z_d; w x_md, σ²) ], σ² = exp(v).
double parzen(const std::vector<double>& z, const Rows& x, const std::vector<int>& members, double v, double w = 1.0) {
  const double var = std::exp(v);
  double p = 0;
  for (int m : members) {
    double density = 1;
    for (size_t d = 0; d < z.size(); ++d) {
      const double diff = z[d] - w * x[m][d];
      density *= std::exp(-0.5 * diff * diff / var) / std::sqrt(2 * M_PI * var);
    }
    p += density;
  }
  return std::log(p / static_cast<double>(members.size()));
}

std::vector<double> row(const torch::Tensor& z) {
  const auto c = z.contiguous();
  return std::vector<double>(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
}

std::vector<int> all_but(int n, int left_out) {
  std::vector<int> m;
  for (int i = 0; i < n; ++i)
    if (i != left_out) m.push_back(i);
  return m;
}

const Rows kFour{{0.5, -1.0}, {2.0, 0.3}, {-1.5, 1.2}, {0.1, 0.4}};

TEST(Exemplar, ExactDensityIsTheParzenWindowWrittenOutByHand) {
  torch::manual_seed(1);
  const auto z = torch::randn({5, 3, 2}, torch::kDouble) * 1.5;
  const double v = std::log(0.5);

  // Evaluation: all N = 4 exemplars, 1/N, exact (eval_k = 0 by default).
  auto s = build(kFour);
  s.prior->eval();
  const auto got = s.prior->log_prob(z);
  ASSERT_EQ(got.sizes(), (std::vector<std::int64_t>{5, 3}));
  for (std::int64_t i = 0; i < 5; ++i)
    for (std::int64_t j = 0; j < 3; ++j)
      EXPECT_NEAR(got[i][j].item<double>(), parzen(row(z[i][j]), kFour, {0, 1, 2, 3}, v), 1e-10) << i << "," << j;
  // One point without leading dimensions -> a scalar; no K: the density is exact.
  const auto one = s.prior->log_prob(torch::tensor({0.3, -0.2}, torch::kDouble));
  EXPECT_EQ(one.dim(), 0);
  EXPECT_NEAR(one.item<double>(), parzen({0.3, -0.2}, kFour, {0, 1, 2, 3}, v), 1e-12);
  EXPECT_EQ(s.prior->bound_samples(), 0);

  // Training with k = 0 and no leave-one-out is the same mixture; the rows are dimension -2.
  auto t = build(kFour, {{"k", 0}, {"leave_one_out", false}});
  t.prior->begin_step(step_of(0, {0, 1, 2}));
  const auto trained = t.prior->log_prob(z);
  EXPECT_TRUE(torch::allclose(trained, got, 0, 1e-10));
}

TEST(Exemplar, KnnWithKEqualToNIsTheExactMixtureAndSmallKALowerBound) {
  torch::manual_seed(2);
  const auto x6 = torch::randn({6, 3}, torch::kDouble) * 2;
  Rows six;
  for (std::int64_t n = 0; n < 6; ++n) six.push_back(row(x6[n]));
  const auto z = torch::randn({3, 2, 3}, torch::kDouble) * 2;  // [K, B, D], an IWAE-shaped batch

  // Training, leave-one-out: k = N = 6 takes every other exemplar (the own one is excluded from
  // the 6 chosen), which is the exact mixture over the 5 others.
  auto exact = build(six, {{"k", 0}});
  auto knn = build(six, {{"k", 6}});
  exact.prior->begin_step(step_of(0, {4, 1}));
  knn.prior->begin_step(step_of(0, {4, 1}));
  const auto want = exact.prior->log_prob(z), got = knn.prior->log_prob(z);
  EXPECT_LT((got - want).abs().max().item<double>(), 1e-6);
  for (std::int64_t s = 0; s < 3; ++s)  // and both are the hand mixture over the others
    for (std::int64_t b = 0; b < 2; ++b)
      EXPECT_NEAR(want[s][b].item<double>(), parzen(row(z[s][b]), six, all_but(6, b == 0 ? 4 : 1), std::log(0.5)),
                  1e-10);

  // Evaluation: eval_k = N against eval_k = 0.
  auto exact_eval = build(six), knn_eval = build(six, {{"eval_k", 6}});
  exact_eval.prior->eval();
  knn_eval.prior->eval();
  EXPECT_LT((knn_eval.prior->log_prob(z) - exact_eval.prior->log_prob(z)).abs().max().item<double>(), 1e-6);

  // Small k, z near exemplar 2: the one nearest component, still divided by N. A lower bound,
  // close to the exact value: with σ² = 0.2 the next exemplar (x_3, squared distance 2.995 from
  // z against 0.0034 for x_2) adds exp(−(2.995 − 0.0034) / 0.4) = 5.6e-4 relative, the others
  // less than 1e-9, so exact − kNN = log(1 + 5.6e-4).
  const double v = std::log(0.2);
  auto near_exact = build(kFour, {}, v), near_knn = build(kFour, {{"eval_k", 1}}, v);
  near_exact.prior->eval();
  near_knn.prior->eval();
  const std::vector<double> point{-1.45, 1.17};
  const auto zp = torch::tensor(point, torch::kDouble);
  const double e = near_exact.prior->log_prob(zp).item<double>(), k1 = near_knn.prior->log_prob(zp).item<double>();
  EXPECT_NEAR(k1, parzen(point, kFour, {2}, v) - std::log(4.0), 1e-12);  // (1/4) N(z; x_2, σ²)
  EXPECT_LT(k1, e);
  EXPECT_NEAR(e - k1, std::log1p(std::exp(-(2.9954 - 0.0034) / 0.4)), 1e-6);
  // In training, with k = 1, a row whose own example is not exemplar 2: (1/3) N(z; x_2, σ²).
  auto near_train = build(kFour, {{"k", 1}}, v);
  near_train.prior->begin_step(step_of(0, {0}));
  EXPECT_NEAR(near_train.prior->log_prob(zp.view({1, 2})).item<double>(), parzen(point, kFour, {2}, v) - std::log(3.0),
              1e-12);
  // ... and a row whose own example is exemplar 2: the nearest other one, exemplar 3.
  near_train.prior->begin_step(step_of(1, {2}));
  EXPECT_NEAR(near_train.prior->log_prob(zp.view({1, 2})).item<double>(), parzen(point, kFour, {3}, v) - std::log(3.0),
              1e-12);
}

TEST(Exemplar, ExactEvaluationOverManyTilesIsTheParzenWindowAndItsGradients) {
  // The exact evaluation streams the [Q, N] table in tiles of 128 rows x 1024 exemplars with a
  // running maximum. N = 2,500 exemplars (two full tiles and a part) and Q = 300 points (two
  // full row tiles and a part), spread wide with a small σ² = 0.05 so that each point's largest
  // term turns up in any tile and most terms underflow against it: the value against the
  // Parzen window summed by hand (shifted by its own maximum), and the gradients in z and in
  // v = log σ² against their closed forms, with w_n the posterior weight of exemplar n:
  //   ∂/∂z log p = Σ_n w_n (μ_n − z) / σ²,   ∂/∂v log p = Σ_n w_n (‖z − μ_n‖² / (2σ²) − D/2).
  torch::manual_seed(7);
  const std::int64_t n = 2500, q = 300, d = 3;
  const double v = std::log(0.05), var = 0.05;
  const auto x = torch::randn({n, d}, torch::kDouble) * 4;
  Rows exemplars;
  for (std::int64_t i = 0; i < n; ++i) exemplars.push_back(row(x[i]));
  auto s = build(exemplars, {}, v);
  s.prior->eval();
  const auto z = (torch::randn({q, d}, torch::kDouble) * 4).requires_grad_(true);
  const auto got = s.prior->log_prob(z);
  ASSERT_EQ(got.sizes(), (std::vector<std::int64_t>{q}));
  got.sum().backward();
  const auto dz = z.grad();
  const double dv = s.log_variance.grad().item<double>();

  double dv_want = 0;
  for (std::int64_t r = 0; r < q; ++r) {
    const auto zr = row(z[r].detach());
    std::vector<double> d2(n, 0.0), log_terms(n);  // ‖z − μ_i‖², log N(z; μ_i, σ² I)
    for (std::int64_t i = 0; i < n; ++i) {
      for (std::int64_t j = 0; j < d; ++j) d2[i] += (zr[j] - exemplars[i][j]) * (zr[j] - exemplars[i][j]);
      log_terms[i] = -0.5 * d2[i] / var - 0.5 * d * std::log(2 * M_PI * var);
    }
    const double top = *std::max_element(log_terms.begin(), log_terms.end());
    double sum = 0;
    for (double t : log_terms) sum += std::exp(t - top);
    EXPECT_NEAR(got[r].item<double>(), top + std::log(sum) - std::log(static_cast<double>(n)), 1e-9) << r;
    std::vector<double> grad(d, 0.0);
    for (std::int64_t i = 0; i < n; ++i) {
      const double w = std::exp(log_terms[i] - top) / sum;
      for (std::int64_t j = 0; j < d; ++j) grad[j] += w * (exemplars[i][j] - zr[j]) / var;
      dv_want += w * (0.5 * d2[i] / var - 0.5 * d);
    }
    for (std::int64_t j = 0; j < d; ++j)
      EXPECT_NEAR(dz[r][j].item<double>(), grad[j], 1e-8 * std::max(1.0, std::abs(grad[j]))) << r << "," << j;
  }
  EXPECT_NEAR(dv, dv_want, 1e-8 * std::abs(dv_want));
  // Many points hold their largest term outside the first tile of exemplars: the running
  // maximum moved.
  const auto nearest = torch::cdist(z.detach(), x).argmin(-1);
  EXPECT_GT((nearest >= 1024).sum().item<std::int64_t>(), q / 2);
}

TEST(Exemplar, LeaveOneOutDropsEachRowsOwnExample) {
  // N = 3. Row 0 is training example 2, row 1 is example 0:
  //   log p(z_0) = log ½ [N(z_0; x_0, σ²) + N(z_0; x_1, σ²)]
  //   log p(z_1) = log ½ [N(z_1; x_1, σ²) + N(z_1; x_2, σ²)]
  const Rows three{{0.0, 0.0}, {1.0, -0.5}, {-0.4, 0.9}};
  const double v = std::log(0.8);
  const std::vector<double> z0{0.3, 0.2}, z1{-0.1, 0.5};
  const auto z = torch::tensor({0.3, 0.2, -0.1, 0.5}, torch::kDouble).view({2, 2});
  const double want0 = parzen(z0, three, {0, 1}, v), want1 = parzen(z1, three, {1, 2}, v);
  for (const std::int64_t k : {0, 2, 5}) {  // exact; the 2 others; more than there are
    auto s = build(three, {{"k", k}}, v);
    s.prior->begin_step(step_of(0, {2, 0}));
    const auto got = s.prior->log_prob(z);
    EXPECT_NEAR(got[0].item<double>(), want0, 1e-12) << "k = " << k;
    EXPECT_NEAR(got[1].item<double>(), want1, 1e-12) << "k = " << k;
    // Two samples per row ([K, B, D]): each sample is its row's.
    const auto twice = s.prior->log_prob(torch::stack({z, z}));
    EXPECT_TRUE(torch::allclose(twice, torch::stack({got, got}), 0, 1e-12)) << "k = " << k;
  }
  // Without leave-one-out: all three, 1/3.
  auto all = build(three, {{"k", 0}, {"leave_one_out", false}}, v);
  all.prior->begin_step(step_of(0, {2, 0}));
  EXPECT_NEAR(all.prior->log_prob(z)[0].item<double>(), parzen(z0, three, {0, 1, 2}, v), 1e-12);

  // Evaluation does not use the last training batch's indices: the full mixture for every row.
  auto s = build(three, {{"k", 0}}, v);
  s.prior->begin_step(step_of(0, {2, 0}));
  s.prior->eval();
  const auto evaluated = s.prior->log_prob(z);
  EXPECT_NEAR(evaluated[0].item<double>(), parzen(z0, three, {0, 1, 2}, v), 1e-12);
  EXPECT_NEAR(evaluated[1].item<double>(), parzen(z1, three, {0, 1, 2}, v), 1e-12);

  // A training-mode call without gradients is no training step (a check after training, a
  // diagnostic): the full mixture too, whatever the batch size.
  s.prior->train();
  s.prior->begin_step(step_of(1, {2, 0}));
  {
    torch::NoGradGuard no_grad;
    EXPECT_NEAR(s.prior->log_prob(z)[0].item<double>(), parzen(z0, three, {0, 1, 2}, v), 1e-12);
    EXPECT_EQ(s.prior->log_prob(torch::zeros({3, 2}, torch::kDouble)).sizes(), (std::vector<std::int64_t>{3}));
  }

  // A training step needs the batch's indices, as many as z has rows on dimension -2.
  s.prior->train();
  EXPECT_THROW(s.prior->log_prob(z), priorlab::Error);  // no begin_step since the mode changed
  s.prior->begin_step(step_of(2, {2, 0}));
  EXPECT_THROW(s.prior->log_prob(torch::zeros({3, 2}, torch::kDouble)), priorlab::Error);
  EXPECT_THROW(s.prior->log_prob(torch::zeros({2}, torch::kDouble)), priorlab::Error);
}

TEST(Exemplar, TheStepsSubsetIsRedrawnFromTheSeedEveryStep) {
  // exemplars = 2 of N = 4, leave-one-out, row = example 0. Each step's value is the mixture of
  // one 2-subset S without example 0, n = |S \ {0}|:
  //   k = 0: (1/n) Σ_{j ∈ S \ {0}} N(z; x_j, σ²)
  //   k = 1: (1/n) N(z; x_j, σ²), x_j the member of S \ {0} nearest to z
  const std::vector<double> point{0.2, 0.1};  // squared distances to x_0..x_3: 1.3, 3.28, 4.1, 0.1
  const auto z = torch::tensor(point, torch::kDouble).view({1, 2});
  const double v = std::log(0.5);
  for (const std::int64_t k : {0, 1}) {
    std::vector<double> candidates;
    for (int i = 0; i < 4; ++i)
      for (int j = i + 1; j < 4; ++j) {
        std::vector<int> members;
        for (int m : {i, j})
          if (m != 0) members.push_back(m);
        if (k == 0 || members.size() == 1) {
          candidates.push_back(parzen(point, kFour, members, v));
        } else {
          auto d2 = [&](int m) { return std::pow(point[0] - kFour[m][0], 2) + std::pow(point[1] - kFour[m][1], 2); };
          const int near = d2(members[0]) < d2(members[1]) ? members[0] : members[1];
          candidates.push_back(parzen(point, kFour, {near}, v) - std::log(2.0));
        }
      }
    auto s = build(kFour, {{"k", k}, {"exemplars", 2}}, v);
    std::set<int> seen;
    std::vector<double> values;
    for (std::int64_t step = 0; step < 20; ++step) {
      s.prior->begin_step(step_of(step, {0}));
      const double got = s.prior->log_prob(z).item<double>();
      values.push_back(got);
      int match = -1;
      for (size_t c = 0; c < candidates.size(); ++c)
        if (std::abs(got - candidates[c]) < 1e-12) match = static_cast<int>(c);
      ASSERT_GE(match, 0) << "k = " << k << ", step " << step << ": " << got << " is no 2-subset's value";
      seen.insert(match);
    }
    EXPECT_GE(seen.size(), 3u) << "k = " << k;  // P(at most 2 of 6 subsets in 20 uniform draws) < 1e-7
    // A function of (seed, step): another prior built alike repeats step 7.
    auto again = build(kFour, {{"k", k}, {"exemplars", 2}}, v);
    again.prior->begin_step(step_of(7, {0}));
    EXPECT_EQ(again.prior->log_prob(z).item<double>(), values[7]) << "k = " << k;
  }
}

TEST(Exemplar, SamplesHaveTheMixturesMoments) {
  // 1-D, exemplars x = (−2, 0.5, 3), σ² = 0.3. With a_n = x_n − m:
  //   m = mean x_n = 0.5,  var = σ² + mean a_n² = 0.3 + 25/6,
  //   4th central moment μ4 = mean [a_n⁴ + 6 a_n² σ² + 3 σ⁴],
  // so the sample mean's standard error is sqrt(var / n) and the sample variance's
  // sqrt((μ4 − var²) / n) (about 0.0047 and 0.0083 at n = 2e5); allowed: 5 of each.
  const Rows x{{-2.0}, {0.5}, {3.0}};
  const double var0 = 0.3;
  auto s = build(x, {}, std::log(var0));
  s.prior->eval();
  torch::manual_seed(3);
  torch::NoGradGuard no_grad;
  const std::int64_t n = 200000;
  const auto samples = s.prior->sample(n);
  ASSERT_EQ(samples.sizes(), (std::vector<std::int64_t>{n, 1}));
  EXPECT_EQ(samples.scalar_type(), torch::kDouble);
  const double m = 0.5;
  double a2 = 0, mu4 = 0;
  for (const auto& r : x) {
    const double a = r[0] - m;
    a2 += a * a / 3;
    mu4 += (a * a * a * a + 6 * a * a * var0 + 3 * var0 * var0) / 3;
  }
  const double var = var0 + a2;
  EXPECT_NEAR(samples.mean().item<double>(), m, 5 * std::sqrt(var / n));
  EXPECT_NEAR(samples.var(/*unbiased=*/false).item<double>(), var, 5 * std::sqrt((mu4 - var * var) / n));
  // Repeatable from the seed; n = 0 gives an empty [0, D].
  torch::manual_seed(4);
  const auto a = s.prior->sample(30);
  torch::manual_seed(4);
  EXPECT_TRUE(torch::equal(a, s.prior->sample(30)));
  EXPECT_EQ(s.prior->sample(0).sizes(), (std::vector<std::int64_t>{0, 1}));
}

/// (f(θ + h) − f(θ − h)) / 2h for a scalar parameter θ (f evaluated with gradients on: a
/// training step).
template <class F>
double central_difference(torch::Tensor theta, F&& f, double h = 1e-6) {
  const double at = theta.item<double>();
  auto set = [&](double value) {
    torch::NoGradGuard no_grad;
    theta.fill_(value);
  };
  set(at + h);
  const double up = f();
  set(at - h);
  const double down = f();
  set(at);
  return (up - down) / (2 * h);
}

TEST(Exemplar, GradientsReachSigmaAndTheEncoderThroughTheExemplars) {
  const Rows five{{0.5, -1.0}, {2.0, 0.3}, {-1.5, 1.2}, {0.1, 0.4}, {1.1, 1.0}};
  const auto z = torch::tensor({0.4, -0.6, 0.0, 0.8}, torch::kDouble).view({2, 2});  // fixed: no path to w through z
  for (const std::int64_t k : {0, 2}) {
    auto s = build(five, {{"k", k}});
    s.prior->begin_step(step_of(0, {0, 3}));
    auto f = [&] { return s.prior->log_prob(z).sum().item<double>(); };
    s.prior->log_prob(z).sum().backward();
    ASSERT_TRUE(s.log_variance.grad().defined());
    ASSERT_TRUE(s.net->w.grad().defined()) << "k = " << k;
    const double dv = s.log_variance.grad().item<double>(), dw = s.net->w.grad().item<double>();
    EXPECT_GT(std::abs(dw), 1e-3) << "k = " << k;
    // Against central differences (the neighbours stay those the cache chose at begin_step).
    EXPECT_NEAR(dv, central_difference(s.log_variance, f), 1e-6 * std::max(1.0, std::abs(dv))) << "k = " << k;
    EXPECT_NEAR(dw, central_difference(s.net->w, f), 1e-6 * std::max(1.0, std::abs(dw))) << "k = " << k;
  }
  // exemplar_gradient = false: the cached means carry no gradient; σ still learns.
  auto cached = build(five, {{"k", 2}, {"exemplar_gradient", false}});
  cached.prior->begin_step(step_of(0, {0, 3}));
  cached.prior->log_prob(z).sum().backward();
  EXPECT_GT(std::abs(cached.log_variance.grad().item<double>()), 0.0);
  EXPECT_TRUE(!cached.net->w.grad().defined() || cached.net->w.grad().abs().item<double>() == 0.0);
}

TEST(Exemplar, GradientsReachEveryEncoderParameterOfAnMlp) {
  torch::manual_seed(5);
  BuildContext nctx;
  nctx.data.shape = {4};
  auto net = priorlab::test::make<Network>("mlp", {{"latent_dim", 3}, {"hidden", {8}}, {"activation", "tanh"}}, nctx);
  BuildContext ctx;
  ctx.latent_dim = 3;
  ctx.network = net;
  ctx.dataset = std::make_shared<Points>(torch::rand({12, 4}));
  ctx.data.shape = {4};
  ctx.steps_per_epoch = 2;
  auto prior = priorlab::test::make<Prior>("exemplar", json::object(), ctx);  // defaults: k = 10
  // σ is the prior's one parameter; the encoder's parameters stay the network's.
  ASSERT_EQ(prior->parameters().size(), 1u);
  PriorStep step;
  step.indices = torch::tensor(std::vector<std::int64_t>{0, 5, 7, 11, 2, 3}, torch::kLong);
  prior->begin_step(step);
  prior->log_prob(torch::randn({6, 3})).sum().backward();
  for (const auto& p : net->named_parameters())
    if (p.key().rfind("encoder", 0) == 0) {
      ASSERT_TRUE(p.value().grad().defined()) << p.key();
      EXPECT_GT(p.value().grad().abs().sum().item<double>(), 0.0) << p.key();
    }
  EXPECT_EQ(prior->sample(5).sizes(), (std::vector<std::int64_t>{5, 3}));
  // The exact mixture (k = 0) in float32 too.
  net->zero_grad();
  auto exact = priorlab::test::make<Prior>("exemplar", {{"k", 0}}, ctx);
  exact->begin_step(step);
  const auto log_p = exact->log_prob(torch::randn({2, 6, 3}));  // [K, B, D]
  EXPECT_EQ(log_p.scalar_type(), torch::kFloat);
  EXPECT_TRUE(torch::isfinite(log_p).all().item<bool>());
  log_p.sum().backward();
  EXPECT_GT(net->named_parameters()["encoder.0.weight"].grad().abs().sum().item<double>(), 0.0);
}

TEST(Exemplar, NeedsADatasetAndANetworkAndChecksItsOptions) {
  const auto place = [](BuildContext ctx, json options) {
    return priorlab::test::error_place([&] { priorlab::test::make<Prior>("exemplar", options, ctx); });
  };
  const auto data = tensor_of(kFour);
  BuildContext ctx;
  ctx.latent_dim = 2;
  ctx.network = std::make_shared<ScaledIdentity>(2);
  ctx.data.shape = {2};
  // No dataset (a prior built without data): a clear error at the prior's section.
  try {
    priorlab::test::make<Prior>("exemplar", json::object(), ctx);
    FAIL() << "no error without a dataset";
  } catch (const priorlab::Error& e) {
    EXPECT_EQ(e.where(), "plugin 'exemplar': /test");
    EXPECT_NE(e.message().find("dataset"), std::string::npos) << e.what();
  }
  ctx.dataset = std::make_shared<Points>(data);
  BuildContext no_network = ctx;
  no_network.network = nullptr;
  EXPECT_EQ(place(no_network, json::object()), "plugin 'exemplar': /test");
  // The plugin's own checks name the option's JSON path ...
  EXPECT_EQ(place(ctx, {{"exemplars", 5}}), "plugin 'exemplar': /test/options/exemplars");  // N = 4
  EXPECT_EQ(place(ctx, {{"exemplars", 1}}), "plugin 'exemplar': /test/options/leave_one_out");
  BuildContext single = ctx;
  single.dataset = std::make_shared<Points>(tensor_of(Rows{std::vector<double>{1.0, 2.0}}));
  EXPECT_EQ(place(single, json::object()), "plugin 'exemplar': /test/options/leave_one_out");
  EXPECT_EQ(place(single, {{"leave_one_out", false}}), "none");
  // ... and so does the declaration the host validates against.
  EXPECT_EQ(place(ctx, {{"k", -1}}), "/test/options/k");
  EXPECT_EQ(place(ctx, {{"refresh_every", -0.5}}), "/test/options/refresh_every");
  EXPECT_EQ(place(ctx, {{"leave_one_out", 1}}), "/test/options/leave_one_out");
  EXPECT_EQ(place(ctx, {{"neighbours", 10}}), "/test/options/neighbours");
  EXPECT_EQ(place(ctx, {{"exemplars", 4}, {"k", 3}, {"eval_k", 2}}), "none");
}

TEST(Exemplar, TheCacheIsSavedStateAndFollowsItsSchedule) {
  // exemplar_gradient = false and k = 0: log p(z) uses the cached means, so its value shows
  // what the cache holds. refresh_every = 1 epoch = 10 steps.
  const json options{{"k", 0}, {"exemplar_gradient", false}};
  const double v = std::log(0.5);
  const std::vector<double> point{0.3, -0.4};
  const auto z = torch::tensor(point, torch::kDouble).view({1, 2});
  auto s = build(kFour, options, v);
  auto buffer = [](Prior& p, const std::string& name) { return p.named_buffers()[name].clone(); };
  EXPECT_EQ(buffer(*s.prior, "cache_step").item<double>(), -1.0);  // never filled
  s.prior->begin_step(step_of(0, {1}));
  EXPECT_TRUE(torch::equal(buffer(*s.prior, "cache"), tensor_of(kFour)));  // w = 1
  EXPECT_EQ(buffer(*s.prior, "cache_step").item<double>(), 0.0);

  // The encoder moves (w = 2); within the epoch the cache keeps the means of step 0.
  {
    torch::NoGradGuard no_grad;
    s.net->w.fill_(2.0);
  }
  s.prior->begin_step(step_of(5, {1}));
  const double stale = parzen(point, kFour, {0, 2, 3}, v, /*w=*/1.0);
  EXPECT_NEAR(s.prior->log_prob(z).item<double>(), stale, 1e-12);

  // Saved at step 5 and loaded into a new prior, the cache (and when it was filled) come along:
  // the loaded prior's step 6 is the original's step 6.
  std::stringstream bytes;
  {
    torch::serialize::OutputArchive out;
    s.prior->save(out);
    out.save_to(bytes);
  }
  auto resumed = build(kFour, options, 0.0);
  {
    torch::NoGradGuard no_grad;
    resumed.net->w.fill_(2.0);
    torch::serialize::InputArchive in;
    in.load_from(bytes);
    resumed.prior->load(in);
  }
  for (const auto& name : {"cache", "cache_step", "cache_period"})
    EXPECT_TRUE(torch::equal(buffer(*resumed.prior, name), buffer(*s.prior, name))) << name;
  EXPECT_EQ(resumed.log_variance.item<double>(), v);
  s.prior->begin_step(step_of(6, {1}));
  resumed.prior->begin_step(step_of(6, {1}));
  EXPECT_EQ(resumed.prior->log_prob(z).item<double>(), s.prior->log_prob(z).item<double>());
  EXPECT_NEAR(resumed.prior->log_prob(z).item<double>(), stale, 1e-12);
  // Without the saved state a new prior fills its cache at its first step, with w = 2: not a resume.
  auto fresh = build(kFour, options, v);
  {
    torch::NoGradGuard no_grad;
    fresh.net->w.fill_(2.0);
  }
  fresh.prior->begin_step(step_of(6, {1}));
  EXPECT_NEAR(fresh.prior->log_prob(z).item<double>(), parzen(point, kFour, {0, 2, 3}, v, 2.0), 1e-12);
  EXPECT_GT(std::abs(fresh.prior->log_prob(z).item<double>() - stale), 0.1);

  // Step 10 begins epoch 1: the cache is recomputed with w = 2.
  s.prior->begin_step(step_of(10, {1}));
  EXPECT_TRUE(torch::equal(buffer(*s.prior, "cache"), 2 * tensor_of(kFour)));
  EXPECT_EQ(buffer(*s.prior, "cache_step").item<double>(), 10.0);
  EXPECT_NEAR(s.prior->log_prob(z).item<double>(), parzen(point, kFour, {0, 2, 3}, v, 2.0), 1e-12);

  // refresh_every = 0: every step.
  auto every = build(kFour, {{"k", 0}, {"exemplar_gradient", false}, {"refresh_every", 0.0}}, v);
  every.prior->begin_step(step_of(3, {1}));
  {
    torch::NoGradGuard no_grad;
    every.net->w.fill_(3.0);
  }
  every.prior->begin_step(step_of(4, {1}));
  EXPECT_TRUE(torch::equal(buffer(*every.prior, "cache"), 3 * tensor_of(kFour)));
}

TEST(Exemplar, EvaluationUsesTheEncoderAsItIsNow) {
  // Evaluation encodes every exemplar afresh whenever the network's tensors change, so the test
  // log-likelihood after training never sees a stale cache.
  const double v = std::log(0.5);
  const std::vector<double> point{0.3, -0.4};
  const auto z = torch::tensor(point, torch::kDouble);
  auto s = build(kFour, {}, v);
  s.prior->begin_step(step_of(0, {1}));  // the training cache: w = 1
  s.prior->eval();
  EXPECT_NEAR(s.prior->log_prob(z).item<double>(), parzen(point, kFour, {0, 1, 2, 3}, v, 1.0), 1e-12);
  {
    torch::NoGradGuard no_grad;
    s.net->w.fill_(1.5);  // an in-place update, as an optimiser step makes
  }
  EXPECT_NEAR(s.prior->log_prob(z).item<double>(), parzen(point, kFour, {0, 1, 2, 3}, v, 1.5), 1e-12);
  s.net->w.set_data(torch::full({1}, 0.5, torch::kDouble));  // a replaced tensor, as a load or a move makes
  EXPECT_NEAR(s.prior->log_prob(z).item<double>(), parzen(point, kFour, {0, 1, 2, 3}, v, 0.5), 1e-12);
}

}  // namespace
