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

}  // namespace ft::models
