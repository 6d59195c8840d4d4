// PEFT's adapter folder, in and out: adapter_config.json (peft_type LORA) and
// adapter_model.safetensors with PEFT's tensor names ("base_model.model.<layer>.lora_A.weight",
// "base_model.model.<head>.weight" for modules_to_save), so that
// PeftModel.from_pretrained(base, folder) loads what a job trained, and a folder PEFT wrote can
// start a job. Include only from Torch translation units.
#pragma once

#include <string>
#include <vector>

#include "common/models/model_config.h"
#include "worker/adapters/lora_model.h"
#include "worker/adapters/lora_options.h"

namespace ft::adapters {

inline constexpr char kAdapterConfigFile[] = "adapter_config.json";
inline constexpr char kAdapterWeightsFile[] = "adapter_model.safetensors";
// The prefix PeftModel puts before the base model's own parameter names.
inline constexpr char kPeftPrefix[] = "base_model.model.";

// adapter_config.json for what ApplyLora did. base_model: base_model_name_or_path (the job's
// model). fan_in_fan_out is true for GPT-2 (Conv1D layers).
std::string AdapterConfigJson(const LoraOptions& options, const LoraReport& report,
                              models::ModelFamily family, models::ModelTask task,
                              const std::string& base_model);

// Writes adapter_config.json and adapter_model.safetensors (the updates and the head, float32)
// into `folder`.
void WritePeftAdapter(torch::nn::Module& model, const LoraOptions& options,
                      const LoraReport& report, models::ModelFamily family,
                      models::ModelTask task, const std::string& base_model,
                      const std::string& folder);

// The fields of <folder>/adapter_config.json that shape the update: r, lora_alpha,
// target_modules (a list, or one name), use_rslora; `base` keeps the rest (dropout,
// base_precision, merge: the job's own).
// Throws std::runtime_error naming the file and field for a missing file, peft_type other than
// LORA, or a field of the wrong type.
LoraOptions ReadAdapterConfig(const std::string& folder, LoraOptions base);

// What <folder>/adapter_config.json says the adapter is for: base_model_name_or_path and
// task_type ("SEQ_CLS", "CAUSAL_LM"; empty when absent). Throws as ReadAdapterConfig.
struct AdapterIdentity {
  std::string base_model;
  std::string task_type;
};
AdapterIdentity ReadAdapterIdentity(const std::string& folder);

// Copies every trainable tensor of `model` (after ApplyLora with ReadAdapterConfig's options)
// from <folder>/adapter_model.safetensors. Throws std::runtime_error naming the file and tensor
// for one that is missing or has another shape.
void LoadPeftAdapterWeights(torch::nn::Module& model, const std::string& folder);

}  // namespace ft::adapters
