// Turns a model into a LoRA model (PEFT's get_peft_model): an update on every linear layer whose
// name is one of the targets, every base parameter frozen (no gradient, so the optimizer and the
// checkpoints of trainable tensors never see them), and a classifier's head trained fully
// (PEFT's modules_to_save for SEQ_CLS). Include only from Torch translation units.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "common/models/model_config.h"
#include "worker/adapters/lora_options.h"
#include "worker/models/trainable_model.h"

namespace ft::adapters {

struct LoraReport {
  std::vector<std::string> target_modules;   // as applied (the family default when none given)
  std::vector<std::string> modules_to_save;  // the head's modules ("score"), classifiers only
  int64_t wrapped_layers = 0;
  int64_t trainable_parameters = 0;
  int64_t total_parameters = 0;  // base + update + head
};

// Attaches the updates (drawing A from LibTorch's current generator) and freezes the base.
// options.target_modules empty: the family's default. Throws std::runtime_error naming
// "lora.target_modules" for a name the family lacks or that matches no layer, and for a
// TorchScript model.
LoraReport ApplyLora(models::TrainableModelImpl& model, models::ModelFamily family,
                     const LoraOptions& options);

// The modules a classifier trains fully: its head's modules, from HeadParameterNames ("score",
// DistilBERT's "pre_classifier" and "classifier"); none for a causal LM.
std::vector<std::string> ModulesToSave(const models::TrainableModelImpl& model);

// The parameters that train (requires_grad), in the model's order.
std::vector<torch::Tensor> TrainableParameters(torch::nn::Module& model);
std::vector<std::pair<std::string, torch::Tensor>> NamedTrainableParameters(
    torch::nn::Module& model);

// The base model's parameters by their Hugging Face names with each update merged into its
// layer's weight (PEFT's merge_and_unload), float32: what the merged model folder holds.
std::vector<std::pair<std::string, torch::Tensor>> MergedParameters(torch::nn::Module& model);

}  // namespace ft::adapters
