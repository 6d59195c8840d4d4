// Reads a Hugging Face config.json of any supported family into a ModelConfig, dispatching on
// model_type (or, without one, on the first of `architectures`). Standard library only.
#pragma once

#include <string>

#include "common/models/model_config.h"

namespace ft::models {

// The supported model_type values: "bloom, gpt2, bert, roberta, distilbert, llama, mistral, qwen2".
std::string SupportedModelTypes();

// Refuses, naming `file` and the field: invalid JSON, an unsupported model_type, missing or
// out-of-range sizes, and the options of a family that are not implemented (a rope_type other
// than "default", BERT's relative position embeddings, an activation we do not have, ...).
ModelConfig ParseModelConfigJson(const std::string& text, const std::string& file);

}  // namespace ft::models
