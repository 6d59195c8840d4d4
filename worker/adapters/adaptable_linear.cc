#include "worker/adapters/adaptable_linear.h"

#include <torch/types.h>

namespace ft::adapters {

torch::Tensor AdaptableLinearImpl::forward(const torch::Tensor& x) {
  // ATen's linear, as PyTorch's F.linear calls it: one addmm with the bias for 2-d and contiguous
  // 3-d inputs, which autocast runs in bfloat16 (the C++ API's functional::linear adds the bias
  // in a second pass, in float32 under autocast).
  return WithUpdate(x, torch::linear(BaseInput(x), weight, bias));
}

}  // namespace ft::adapters
