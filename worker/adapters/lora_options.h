// What a LoRA job asks for (job.proto's LoraSpec with defaults applied; docs/lora.md). Standard
// library only: TrainOptions carries it into the training core.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace ft::adapters {

struct LoraOptions {
  bool enabled = false;
  int64_t r = 8;
  double alpha = 8.0;
  double dropout = 0.0;
  // PEFT's module names ("q_proj", "query_key_value", ...); empty: the family's default
  // (common/models/lora_targets.h).
  std::vector<std::string> target_modules;
  bool use_rslora = false;            // scale alpha / sqrt(r) instead of alpha / r
  std::string base_precision = "fp32";  // "fp32" or "bf16": the frozen linear weights' dtype
  bool merge = false;  // also write the merged full model to <output_dir>/merged
  // A PEFT adapter folder (adapter_config.json + adapter_model.safetensors) to start from; its
  // r, alpha, targets and rsLoRA then apply.
  std::string adapter;

  double Scale() const;
  // Every field as (name, value as JSON text), the one list that the checkpoint fingerprint and
  // result.json take, so that a field added here reaches both.
  std::vector<std::pair<std::string, std::string>> Fields() const;
};

// "" or what is wrong with `options` ("lora.r must be 1..1024, got 0"), for the training core's
// own check of options that did not come through SubmitJob.
std::string LoraOptionsProblem(const LoraOptions& options);

}  // namespace ft::adapters
