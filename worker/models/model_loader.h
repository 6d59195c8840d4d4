// Builds the classifier a job names: `scratch:NAME` gets fresh weights, a local Hugging Face
// folder (config.json + model.safetensors, see common/models/model_folder.h) gets the
// checkpoint's weights, as `BloomForSequenceClassification.from_pretrained(folder,
// num_labels=N)` would.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "models/bloom_model.h"

namespace ft::models {

// level ("info", "warning"), message: a line for the job's log.
using ModelLog = std::function<void(const std::string&, const std::string&)>;

// Constructs the model on the CPU (initial weights drawn from LibTorch's current generator, so
// the caller seeds it first); for a folder then copies model.safetensors into it. `config` is
// the folder's config.json as ReadModelFolderConfig read it (or the scratch architecture).
BloomForSequenceClassification BuildClassifier(const std::string& model, const BloomConfig& config,
                                               int64_t num_labels, const ModelLog& log);

// Copies every parameter of `model` from a safetensors file, converting F16/BF16 to float32.
// Names are Hugging Face's, with or without the "transformer." prefix (BloomModel checkpoints
// have none). A checkpoint without "score.weight", or with a head for another number of labels,
// leaves the model's freshly initialised head in place and says so through `log`; tensors the
// model does not use (a causal LM's "lm_head.weight") are skipped and counted in one line.
// Throws std::runtime_error naming the file and tensor for a malformed file, a missing tensor or
// a shape that differs from the configuration.
void LoadBloomWeights(BloomForSequenceClassification& model, const std::string& safetensors_path,
                      const ModelLog& log);

}  // namespace ft::models
