// The linear layers LoRA can wrap in each family, by PEFT's module names (the last part of the
// module's path, which PEFT's target_modules match), and PEFT's default targets per family
// (peft.utils.constants TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING). Standard library
// only: ftd refuses an unknown name at SubmitJob, the worker attaches the updates.
#pragma once

#include <string>
#include <vector>

#include "common/models/model_config.h"

namespace ft::models {

// Every module name LoRA can target in `family`, in the order of a block; empty for TorchScript.
const std::vector<std::string>& LoraTargetModules(ModelFamily family);

// PEFT's default targets: query_key_value (BLOOM), c_attn (GPT-2), q_proj + v_proj (Llama,
// Mistral, Qwen2), query + value (BERT, RoBERTa), q_lin + v_lin (DistilBERT).
const std::vector<std::string>& DefaultLoraTargets(ModelFamily family);

// "q_proj, k_proj, ..." for error messages.
std::string JoinedLoraTargets(ModelFamily family);

}  // namespace ft::models
