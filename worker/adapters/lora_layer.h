// A linear layer that can carry a LoRA update, as PEFT's lora.Linear defines it: beside the frozen
// weight W and bias b, a trainable pair A [r, in] and B [out, r], registered as the submodules
// "lora_A" and "lora_B" of the layer (so that their parameters are named "<layer>.lora_A.weight",
// PEFT's names in adapter_model.safetensors), and the output
//   W x + b + scale * B (A (dropout(x))).
// A is drawn as PEFT draws it (kaiming_uniform with a = sqrt(5), torch.nn.Linear's own init), B
// starts at zero, so an attached update changes nothing until trained. Include only from Torch
// translation units.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/linear.h>
#include <torch/types.h>

#include <cstdint>

namespace ft::adapters {

struct LoraSettings {
  int64_t r = 8;
  double scale = 1.0;    // alpha / r, or alpha / sqrt(r) with rsLoRA
  double dropout = 0.0;  // on the update's input only, while training
};

class LoraLayer {
 public:
  virtual ~LoraLayer() = default;

  // Registers lora_A and lora_B (float32, on the weight's device). Throws std::logic_error when
  // an update is already attached.
  void AttachLora(const LoraSettings& settings);
  bool has_lora() const { return !lora_A_.is_empty(); }
  const torch::nn::Linear& lora_A() const { return lora_A_; }
  const torch::nn::Linear& lora_B() const { return lora_B_; }

  // The frozen weight plus scale * B A, in the layout the layer stores its weight (a Linear
  // [out, in], GPT-2's Conv1D [in, out]), float32: what a merged checkpoint holds.
  torch::Tensor MergedWeight() const;

  // Holds the frozen weight and bias in `dtype` (bfloat16 halves their memory); the layer then
  // computes its base product in that dtype and returns the input's dtype.
  void SetBaseDtype(torch::ScalarType dtype);

 protected:
  // The layer as a module (to register the update's submodules) and its frozen tensors.
  virtual torch::nn::Module& host() = 0;
  // Handles to the frozen tensors (ATen handles: set_data on them changes the layer's own).
  virtual torch::Tensor base_weight() const = 0;
  virtual torch::Tensor base_bias() const = 0;  // undefined when the layer has none
  // Conv1D stores [in, out] (PEFT's fan_in_fan_out); a Linear [out, in].
  virtual bool weight_is_in_out() const { return false; }

  // x cast to the frozen weight's dtype when they differ outside autocast (a bfloat16 base).
  torch::Tensor BaseInput(const torch::Tensor& x) const;
  // The layer's output: base (computed from BaseInput(x)) in x's dtype plus the update, if any.
  torch::Tensor WithUpdate(const torch::Tensor& x, const torch::Tensor& base);

 private:
  torch::nn::Linear lora_A_{nullptr};
  torch::nn::Linear lora_B_{nullptr};
  LoraSettings settings_;
};

}  // namespace ft::adapters
