// Writes the trained model as a Hugging Face-style folder: model.safetensors (HF parameter
// names, float32) and config.json (the family's *ForSequenceClassification, or for a causal LM
// its *ForCausalLM with generation_config.json); the tokenizer files come from
// tokenizer_export.h.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "worker/models/trainable_model.h"

namespace ft::train {

// Named tensors (any dtype and device) as float32 into a safetensors file.
void WriteNamedSafetensors(const std::vector<std::pair<std::string, torch::Tensor>>& tensors,
                           const std::string& path);

void WriteModelSafetensors(torch::nn::Module& model, const std::string& path);

void WriteModelFolder(models::TrainableModelImpl& model,
                      const std::vector<std::string>& label_names, int64_t max_seq_length,
                      const std::string& output_dir);
// The same folder with `tensors` as model.safetensors instead of the model's parameters (a LoRA
// model's merged weights).
void WriteModelFolder(models::TrainableModelImpl& model,
                      const std::vector<std::string>& label_names, int64_t max_seq_length,
                      const std::string& output_dir,
                      const std::vector<std::pair<std::string, torch::Tensor>>& tensors);

}  // namespace ft::train
