// The training loop's two LoRA steps: turn the freshly built model into the job's LoRA model
// (from an adapter folder when the job names one), and write the job's output as a PEFT adapter
// folder, with the merged model beside it when asked. Include only from Torch translation units.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "worker/adapters/lora_model.h"
#include "worker/adapters/lora_options.h"
#include "worker/models/model_loader.h"

namespace ft::adapters {

struct LoraJob {
  LoraOptions applied;  // the job's options, with an adapter folder's shape
  LoraReport report;
};

// ApplyLora, then (options.adapter) the adapter's weights; logs the trainable share.
LoraJob SetUpLora(models::TrainableModelImpl& model, models::ModelFamily family,
                  const LoraOptions& options, const models::ModelLog& log);

// <output_dir>/adapter_config.json and adapter_model.safetensors; with applied.merge also
// <output_dir>/merged/ (config.json, model.safetensors with every update merged, generation
// config for a causal LM). The caller writes the tokenizer files.
void WriteLoraOutput(models::TrainableModelImpl& model, const LoraJob& job,
                     models::ModelFamily family, const std::vector<std::string>& label_names,
                     int64_t max_seq_length, const std::string& base_model,
                     const std::string& output_dir);

inline constexpr char kMergedFolder[] = "merged";

}  // namespace ft::adapters
