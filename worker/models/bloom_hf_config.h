// The Hugging Face config.json of a BloomForSequenceClassification or BloomForCausalLM model, so that
// `transformers` can load the folder the trainer writes.
#pragma once

#include <string>
#include <vector>

#include "common/models/model_catalog.h"

namespace ft::models {

// `label_names[i]` is the name of class i (id2label / label2id).
std::string BloomSequenceClassificationConfigJson(const BloomConfig& config,
                                                  const std::vector<std::string>& label_names);

// BloomForCausalLM's (the LM head tied to the word embeddings).
std::string BloomCausalLmConfigJson(const BloomConfig& config);

}  // namespace ft::models
