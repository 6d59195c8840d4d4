// AdamW with each parameter updated in one pass over its elements. LibTorch 1.13's
// torch::optim::AdamW (like PyTorch's, which has no fused CPU kernel before 2.4) runs nine tensor
// operations per parameter and allocates two temporaries of its size; on a CPU the update is bound
// by memory traffic, so reading the parameter, gradient and both moments once and writing them
// once is ~3x less traffic (docs/performance.md has the figures).
//
// The arithmetic is torch::optim::AdamW's, in the same order and in float32: decoupled weight
// decay, bias-corrected moments, p -= lr / bc1 * m / (sqrt(v) / sqrt(bc2) + eps). It keeps the same
// state (AdamWParamState under the same keys), so save() and load() read and write the same
// archive as torch::optim::AdamW. Parameters it cannot fuse (not contiguous float32 on the CPU, or
// amsgrad) take torch::optim::AdamW's step unchanged.
#pragma once

#include <torch/optim/adamw.h>

#include <utility>
#include <vector>

namespace ft::optim {

class FusedAdamW : public torch::optim::AdamW {
 public:
  FusedAdamW(std::vector<torch::optim::OptimizerParamGroup> param_groups,
             torch::optim::AdamWOptions defaults)
      : torch::optim::AdamW(std::move(param_groups), defaults) {}

  torch::Tensor step(LossClosure closure = nullptr) override;

 private:
  // True when every parameter with a gradient can take the one-pass update.
  bool AllFusable() const;
  // The parameter's state, created as torch::optim::AdamW creates it on its first step.
  torch::optim::AdamWParamState& StateOf(const torch::Tensor& parameter);
};

}  // namespace ft::optim
