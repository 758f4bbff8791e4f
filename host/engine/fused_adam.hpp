// A one-pass Adam for the trainer's two parameter groups (issue 11).
//
// torch::optim::Adam (LibTorch 1.13) updates each parameter tensor with six tensor operations
// (mul_, add_, mul_, addcmul_, sqrt / div / add_, addcdiv_), each a pass over memory and one
// dispatch: about 40 tensors x 6 passes for the Table 3 pendulum model (926,476 values), 3.0 ms of
// a 23 ms step on one thread. FusedAdam does the same update in one pass per tensor:
//   m <- b1 m + (1 - b1) g
//   v <- b2 v + (1 - b2) g^2
//   p <- p - (lr / (1 - b1^t)) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
// in float, with LibTorch's order of operations, so the values agree with torch::optim::Adam to
// float rounding (a fused multiply-add here or there; test_fused_adam.cpp states the tolerance).
// It keeps torch::optim::Adam's state (AdamParamState, keyed as Adam keys it) and options, so
// checkpoints written by either load into the other. Cases it does not cover (amsgrad, weight
// decay, non-float or non-contiguous or non-CPU tensors) fall back to torch::optim::Adam::step.
#pragma once

#include <torch/torch.h>

namespace priorlab::host {

class FusedAdam : public torch::optim::Adam {
 public:
  using torch::optim::Adam::Adam;
  torch::Tensor step(LossClosure closure = nullptr) override;
};

}  // namespace priorlab::host
