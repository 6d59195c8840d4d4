// torch::nn::Linear that can carry a LoRA update (lora_layer.h). Without one it is exactly a
// Linear: the same parameters ("weight", "bias"), the same initialisation and random draws, and
// the same output, so the families build every linear layer from it at no cost. Include only
// from Torch translation units.
#pragma once

#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

#include "worker/adapters/lora_layer.h"

namespace ft::adapters {

class AdaptableLinearImpl : public torch::nn::LinearImpl, public LoraLayer {
 public:
  using torch::nn::LinearImpl::LinearImpl;
  torch::Tensor forward(const torch::Tensor& x);

 protected:
  torch::nn::Module& host() override { return *this; }
  torch::Tensor base_weight() const override { return weight; }
  torch::Tensor base_bias() const override { return bias; }
};
TORCH_MODULE(AdaptableLinear);

}  // namespace ft::adapters
