// Builds the model a job names (a classifier, or for task causal_lm a decoder's causal LM): `scratch:NAME` gets fresh weights, a local Hugging Face
// folder (config.json + model.safetensors, pytorch_model.bin or their shards, see
// common/models/model_folder.h) gets
// the checkpoint's weights, as `AutoModelForSequenceClassification.from_pretrained(folder,
// num_labels=N)` would, and a TorchScript .pt file is loaded as it is.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "common/models/model_config.h"
#include "worker/models/trainable_model.h"

namespace ft::models {

// level ("info", "warning"), message: a line for the job's log.
using ModelLog = std::function<void(const std::string&, const std::string&)>;

// The network of `config`'s family with freshly initialised weights (drawn from LibTorch's
// current generator, as Hugging Face's _init_weights draws them), on the CPU; a TorchScript file
// is loaded (its own weights). Throws std::runtime_error for a TorchScript file that cannot be
// loaded or whose forward does not return [batch, num_labels] logits.
// A causal LM (task kCausalLm, num_labels ignored) exists for the decoder families only; others
// throw std::runtime_error.
TrainableModel BuildArchitecture(const ModelConfig& config, int64_t num_labels,
                                 ModelTask task = ModelTask::kSequenceClassification);

// BuildArchitecture, then for a folder (config.source) copies the checkpoint's tensors in
// (LoadCheckpointWeights). The caller seeds LibTorch's generator first.
TrainableModel BuildModel(const ModelConfig& config, int64_t num_labels, const ModelLog& log,
                          ModelTask task = ModelTask::kSequenceClassification);

// Copies every parameter of `model` from the checkpoint in `folder` (model.safetensors or its
// shards), converting F16/BF16 to float32. Names are Hugging Face's, with or without the base
// model's prefix ("transformer.", "model.", "bert.", ...: base-model checkpoints have none; older
// BERT checkpoints' LayerNorm.gamma/beta are accepted for weight/bias). A checkpoint without the
// classification head (model.HeadParameterNames()), or with a head for another number of labels,
// leaves the model's freshly initialised head in place and says so through `log`; tensors the
// model does not use (a causal LM's "lm_head.weight") are skipped and counted in one line.
// Throws std::runtime_error naming the file and tensor for a malformed file, a missing tensor or
// a shape that differs from the configuration.
void LoadCheckpointWeights(TrainableModelImpl& model, const std::string& folder,
                           const ModelLog& log);

}  // namespace ft::models
