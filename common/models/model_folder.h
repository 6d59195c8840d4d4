// A local Hugging Face model folder as `spec.model`: config.json beside model.safetensors (or
// model.safetensors.index.json and its shards), or beside pytorch_model.bin (or
// pytorch_model.bin.index.json and its shards); or a TorchScript .pt file. Standard library only:
// ftd checks the folder when a job is submitted, the worker reads the configuration before it
// builds the model.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

#include "common/models/model_catalog.h"
#include "common/models/model_config.h"

namespace ft::models {

inline constexpr std::string_view kModelConfigFile = "config.json";
inline constexpr std::string_view kTorchScriptExtension = ".pt";

// Why a folder cannot serve as a model. not_found(): the folder or one of its two files does not
// exist (a NOT_FOUND for the API); otherwise the contents are wrong (INVALID_ARGUMENT).
class ModelFolderError : public std::runtime_error {
 public:
  ModelFolderError(bool not_found, const std::string& message)
      : std::runtime_error(message), not_found_(not_found) {}
  bool not_found() const { return not_found_; }

 private:
  bool not_found_;
};

// True for "scratch:..." names, which name a built-in architecture rather than a folder.
bool IsScratchModelName(std::string_view model);

// Reads <folder>/config.json (hf_config.h: every supported family, dispatched on model_type)
// and checks that <folder>/model.safetensors or model.safetensors.index.json exists, or else
// that pytorch_model.bin (or every shard pytorch_model.bin.index.json names) is a torch.save
// state dict that common/torchsave reads (its zip directory and pickle; refusing, naming the
// file, the legacy format, anything else, and a pickle that would run code); a regular
// file ending in ".pt" is a TorchScript model (family kTorchScript, nothing read yet). Refuses,
// naming the file and the field, whatever the family's parser refuses.
ModelConfig ReadModelFolderConfig(const std::string& folder);

// BLOOM's config.json as Hugging Face's BloomConfig reads it (hidden_size or n_embed, n_layer or
// num_hidden_layers, n_head or num_attention_heads, vocab_size, layer_norm_epsilon, ...).
// Refuses, naming the file and the field: a model_type other than "bloom", missing or
// out-of-range sizes, hidden_size not divisible by n_head,
// apply_residual_connection_post_layernorm (not implemented), and a vocab_size below the
// kByteTokenizerVocabSize ids that our byte-level tokenizer emits.

// `file` names the config.json in errors.
BloomConfig ParseBloomConfigJson(const std::string& text, const std::string& file);

}  // namespace ft::models
