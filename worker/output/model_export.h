// Writes the trained model as a Hugging Face-style folder: model.safetensors (HF parameter
// names, float32) and config.json (the family's *ForSequenceClassification); the tokenizer
// files come from tokenizer_export.h.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "worker/models/sequence_classifier.h"

namespace ft::train {

void WriteModelSafetensors(torch::nn::Module& model, const std::string& path);

void WriteModelFolder(models::SequenceClassifierImpl& model,
                      const std::vector<std::string>& label_names, int64_t max_seq_length,
                      const std::string& output_dir);

}  // namespace ft::train
