// The built-in model architectures that `scratch:NAME` names. Standard library only: ftd uses it
// to validate a spec, the training core to build the model.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ft::models {

// The byte-level tokenizer (common/tokenize) uses ids 0..3 for <unk>, <s>, </s>, <pad> (BLOOM's
// own special ids) and 4..259 for the 256 byte values: a model needs at least this vocabulary.
inline constexpr int64_t kByteTokenizerVocabSize = 260;

// The fields of a Hugging Face BloomConfig that shape the network.
struct BloomConfig {
  int64_t vocab_size = 250880;
  int64_t hidden_size = 1024;
  int64_t n_layer = 24;
  int64_t n_head = 16;
  double layer_norm_epsilon = 1e-5;
  double initializer_range = 0.02;
  int64_t pad_token_id = 3;
  int64_t bos_token_id = 1;
  int64_t eos_token_id = 2;
};

struct ScratchModel {
  std::string name;         // "bloom-tiny"
  std::string family;       // "bloom"
  std::string description;  // one line for --help and errors
  BloomConfig bloom;        // family "bloom"
  // Other families: the shape as a Hugging Face config.json (common/models/hf_config.h parses it).
  std::string hf_config_json;
};

// Every built-in architecture, in a stable order.
const std::vector<ScratchModel>& ScratchModels();

// "scratch:bloom-tiny" -> the model; nullopt when the name is not "scratch:" + a known name.
std::optional<ScratchModel> FindScratchModel(std::string_view model);

// "scratch:bloom-tiny, scratch:bloom-560m, ..." for error messages.
std::string ScratchModelNames();

}  // namespace ft::models
