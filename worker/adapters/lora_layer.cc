#include "worker/adapters/lora_layer.h"

#include <torch/utils.h>

#include <stdexcept>

#include "worker/models/thread_generator.h"

namespace ft::adapters {

void LoraLayer::AttachLora(const LoraSettings& settings) {
  if (has_lora()) throw std::logic_error("a LoRA update is already attached to this layer");
  const torch::Tensor weight = base_weight();
  const int64_t in = weight.size(weight_is_in_out() ? 0 : 1);
  const int64_t out = weight.size(weight_is_in_out() ? 1 : 0);
  settings_ = settings;
  lora_A_ = host().register_module(
      "lora_A", torch::nn::Linear(torch::nn::LinearOptions(in, settings.r).bias(false)));
  lora_B_ = host().register_module(
      "lora_B", torch::nn::Linear(torch::nn::LinearOptions(settings.r, out).bias(false)));
  {
    torch::NoGradGuard no_grad;
    lora_B_->weight.zero_();
  }
  lora_A_->to(weight.device());
  lora_B_->to(weight.device());
}

torch::Tensor LoraLayer::MergedWeight() const {
  torch::NoGradGuard no_grad;
  const torch::Tensor weight = base_weight().detach().to(torch::kFloat32);
  if (!has_lora()) return weight.clone();
  // PEFT's get_delta_weight: B @ A * scale, [out, in]; transposed for a Conv1D.
  torch::Tensor delta = torch::matmul(lora_B_->weight, lora_A_->weight) * settings_.scale;
  if (weight_is_in_out()) delta = delta.t();
  return weight + delta;
}

void LoraLayer::SetBaseDtype(torch::ScalarType dtype) {
  torch::NoGradGuard no_grad;
  base_weight().set_data(base_weight().data().to(dtype));
  if (base_bias().defined()) base_bias().set_data(base_bias().data().to(dtype));
}

torch::Tensor LoraLayer::BaseInput(const torch::Tensor& x) const {
  const torch::ScalarType weight_dtype = base_weight().scalar_type();
  // Under autocast the product is cast anyway; a float32 base leaves x as it is.
  if (weight_dtype == torch::kFloat32 || weight_dtype == x.scalar_type()) return x;
  return x.to(weight_dtype);
}

torch::Tensor LoraLayer::WithUpdate(const torch::Tensor& x, const torch::Tensor& base) {
  torch::Tensor out = base;
  if (base_weight().scalar_type() != torch::kFloat32 && out.scalar_type() != x.scalar_type()) {
    out = out.to(x.scalar_type());
  }
  if (!has_lora()) return out;
  torch::Tensor input = x;
  if (settings_.dropout > 0 && lora_A_->is_training()) {
    input = models::ThisThreadsDropout(input, settings_.dropout);
  }
  return out + lora_B_(lora_A_(input)) * settings_.scale;
}

}  // namespace ft::adapters
