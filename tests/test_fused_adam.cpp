// FusedAdam (host/engine/fused_adam.hpp) against LibTorch's torch::optim::Adam, the reference it
// replaces: the same parameters, moments and step counts after many steps, and checkpoints that
// load across the two.
#include <gtest/gtest.h>

#include <sstream>

#include "engine/fused_adam.hpp"

using priorlab::host::FusedAdam;

namespace {

std::vector<torch::Tensor> make_params(std::uint64_t seed) {
  torch::manual_seed(seed);
  // Sizes of the Table 3 model's tensors (a 256x256 weight, a bias, an odd 2-wide head), and
  // one tensor longer than FusedAdam's parallel grain.
  std::vector<torch::Tensor> ps = {torch::randn({256, 256}), torch::randn({256}), torch::randn({4, 256}),
                                   torch::randn({3}), torch::randn({70001})};
  for (auto& p : ps) p.set_requires_grad(true);
  return ps;
}

void set_grads(std::vector<torch::Tensor>& ps, std::uint64_t step) {
  torch::manual_seed(1000 + step);
  for (auto& p : ps) {
    // Gradients of several scales, some exactly zero, as a real step has.
    auto g = torch::randn(p.sizes()) * std::pow(10.0, static_cast<double>(step % 5) - 3.0);
    g.masked_fill_(torch::rand(p.sizes()) < 0.1, 0.0);
    p.mutable_grad() = g;
  }
}

}  // namespace

// Tolerance: the two differ only by float rounding inside one update (a fused multiply-add, a
// division by a scalar done as a multiply), about 1 ulp of m, v and the step per update. Over
// 200 steps of lr 1e-3 a parameter moves by up to 0.2; the difference must stay below 1e-6 of
// that scale plus 1e-6 relative, i.e. far below one Adam step (1e-3) and far above 0.
TEST(FusedAdam, MatchesLibTorchAdamOver200Steps) {
  auto a = make_params(7), b = make_params(7);
  torch::optim::Adam reference(a, torch::optim::AdamOptions(1e-3));
  FusedAdam fused(b, torch::optim::AdamOptions(1e-3));
  for (std::uint64_t step = 0; step < 200; ++step) {
    set_grads(a, step);
    set_grads(b, step);
    reference.step();
    fused.step();
  }
  double moved = 0;
  const auto start = make_params(7);
  for (std::size_t i = 0; i < a.size(); ++i) {
    moved = std::max(moved, (a[i] - start[i]).abs().max().item<double>());
    EXPECT_TRUE(torch::allclose(b[i], a[i], 1e-6, 1e-6)) << "tensor " << i << " max |diff| "
                                                           << (b[i] - a[i]).abs().max().item<double>();
  }
  EXPECT_GT(moved, 0.05);  // the optimisers did move the parameters (so the comparison means something)
  // The moments and step counts are the reference's too.
  for (std::size_t i = 0; i < a.size(); ++i) {
    const auto key_a = c10::guts::to_string(a[i].unsafeGetTensorImpl());
    const auto key_b = c10::guts::to_string(b[i].unsafeGetTensorImpl());
    const auto& sa = static_cast<const torch::optim::AdamParamState&>(*reference.state().at(key_a));
    const auto& sb = static_cast<const torch::optim::AdamParamState&>(*fused.state().at(key_b));
    EXPECT_EQ(sb.step(), sa.step());
    // m and v are sums of gradients of up to |g| = 10 that cancel: their rounding is absolute,
    // about 1 ulp of the largest term (1e-6 for m, 1e-5 for v = g^2 up to 100); 10x margin.
    EXPECT_TRUE(torch::allclose(sb.exp_avg(), sa.exp_avg(), 1e-5, 1e-5))
        << "max |diff| " << (sb.exp_avg() - sa.exp_avg()).abs().max().item<double>();
    EXPECT_TRUE(torch::allclose(sb.exp_avg_sq(), sa.exp_avg_sq(), 1e-5, 1e-4))
        << "max |diff| " << (sb.exp_avg_sq() - sa.exp_avg_sq()).abs().max().item<double>();
  }
}

// A checkpoint written by LibTorch's Adam resumes in FusedAdam (and the reverse) with the same
// continuation as the reference, so runs made before the change resume after it.
TEST(FusedAdam, CheckpointsLoadAcrossTheTwo) {
  auto a = make_params(3), b = make_params(3);
  torch::optim::Adam reference(a, torch::optim::AdamOptions(1e-3));
  for (std::uint64_t step = 0; step < 10; ++step) {
    set_grads(a, step);
    reference.step();
  }
  std::stringstream saved;
  {
    torch::serialize::OutputArchive archive;
    reference.save(archive);
    archive.save_to(saved);
  }
  for (std::size_t i = 0; i < a.size(); ++i) b[i].detach().copy_(a[i].detach());
  FusedAdam fused(b, torch::optim::AdamOptions(1e-3));
  {
    torch::serialize::InputArchive archive;
    archive.load_from(saved);
    fused.load(archive);
  }
  for (std::uint64_t step = 10; step < 20; ++step) {
    set_grads(a, step);
    set_grads(b, step);
    reference.step();
    fused.step();
  }
  for (std::size_t i = 0; i < a.size(); ++i) EXPECT_TRUE(torch::allclose(b[i], a[i], 1e-6, 1e-6)) << "tensor " << i;
  const auto key = c10::guts::to_string(b[0].unsafeGetTensorImpl());
  EXPECT_EQ(static_cast<const torch::optim::AdamParamState&>(*fused.state().at(key)).step(), 20);
}

// What FusedAdam does not fuse (weight decay here) is LibTorch's own step: bit-identical.
TEST(FusedAdam, FallsBackToLibTorchForWeightDecay) {
  auto a = make_params(5), b = make_params(5);
  torch::optim::Adam reference(a, torch::optim::AdamOptions(1e-3).weight_decay(0.01));
  FusedAdam fused(b, torch::optim::AdamOptions(1e-3).weight_decay(0.01));
  for (std::uint64_t step = 0; step < 5; ++step) {
    set_grads(a, step);
    set_grads(b, step);
    reference.step();
    fused.step();
  }
  for (std::size_t i = 0; i < a.size(); ++i) EXPECT_TRUE(torch::equal(b[i], a[i])) << "tensor " << i;
}
