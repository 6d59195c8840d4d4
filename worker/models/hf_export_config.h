// The config.json of an exported Hugging Face folder for the families loaded from a checkpoint:
// the checkpoint's own config.json with architectures, model_type, num_labels, id2label,
// label2id, problem_type and the dtype set for the trained float32 classifier, every other field
// kept (transformers then builds the same network). Standard library + nlohmann_json only.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/models/model_config.h"

namespace ft::models {

// Sets num_labels, id2label ({"0": name, ...}) and label2id ({name: 0, ...}); `label_names[i]` is
// the name of class i.
void SetLabelMaps(nlohmann::ordered_json& json, const std::vector<std::string>& label_names);

// "LlamaForSequenceClassification", "MistralForSequenceClassification", ... for config's
// model_type.
std::string SequenceClassificationArchitecture(const ModelConfig& config);

// Throws std::runtime_error when config.config_json is not a JSON object (it was checked when
// the job started).
std::string ExportedConfigJson(const ModelConfig& config,
                               const std::vector<std::string>& label_names);

// "GPT2LMHeadModel", "LlamaForCausalLM", "Qwen2ForCausalLM", ... for config's model_type.
std::string CausalLmArchitecture(const ModelConfig& config);

// The checkpoint's config.json as the family's causal LM: a classifier's label fields removed,
// tie_word_embeddings as the model was built.
std::string ExportedCausalLmConfigJson(const ModelConfig& config);

// generation_config.json for an exported causal LM: the token ids of its config.json
// (bos_token_id, eos_token_id, pad_token_id, as transformers' GenerationConfig.from_model_config
// copies them); greedy decoding is the default.
std::string GenerationConfigJson(const std::string& exported_config_json);

}  // namespace ft::models
