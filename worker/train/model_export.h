// Writes the trained model as a Hugging Face-style folder: model.safetensors (HF parameter
// names, float32) and config.json (BloomForSequenceClassification); the tokenizer files come from
// tokenizer_export.h.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "models/bloom_model.h"

namespace ft::train {

void WriteModelSafetensors(models::BloomForSequenceClassification& model, const std::string& path);

void WriteModelFolder(models::BloomForSequenceClassification& model,
                      const std::vector<std::string>& label_names, int64_t max_seq_length,
                      const std::string& output_dir);

}  // namespace ft::train
