#include "worker/adapters/adaptable_linear.h"

#include <torch/nn/functional/linear.h>

namespace ft::adapters {

torch::Tensor AdaptableLinearImpl::forward(const torch::Tensor& x) {
  return WithUpdate(x, torch::nn::functional::linear(BaseInput(x), weight, bias));
}

}  // namespace ft::adapters
