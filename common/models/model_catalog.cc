#include "common/models/model_catalog.h"

#include <nlohmann/json.hpp>

namespace ft::models {
namespace {

constexpr std::string_view kScratchPrefix = "scratch:";

constexpr int64_t kByteVocabSize = kByteTokenizerVocabSize;

// A Llama-architecture scratch model (vocabulary 32000, untied head, Llama 2's special ids).
struct LlamaShape {
  const char* name;
  const char* description;
  int hidden, intermediate, layers, heads, kv_heads, max_positions;
  double rope_theta;
};

ScratchModel LlamaScratchModel(const LlamaShape& shape) {
  ScratchModel model;
  model.name = shape.name;
  model.family = "llama";
  model.description = shape.description;
  model.hf_config_json =
      nlohmann::ordered_json{{"model_type", "llama"},
                             {"vocab_size", 32000},
                             {"hidden_size", shape.hidden},
                             {"intermediate_size", shape.intermediate},
                             {"num_hidden_layers", shape.layers},
                             {"num_attention_heads", shape.heads},
                             {"num_key_value_heads", shape.kv_heads},
                             {"max_position_embeddings", shape.max_positions},
                             {"rms_norm_eps", 1e-5},
                             {"rope_theta", shape.rope_theta},
                             {"tie_word_embeddings", false},
                             {"bos_token_id", 1},
                             {"eos_token_id", 2},
                             {"pad_token_id", 3}}
          .dump();
  return model;
}

std::vector<ScratchModel> BuildCatalog() {
  std::vector<ScratchModel> models;

  ScratchModel tiny;
  tiny.name = "bloom-tiny";
  tiny.family = "bloom";
  tiny.description = "BLOOM architecture, 2 layers, hidden 128, 4 heads (~0.43M parameters)";
  tiny.bloom.vocab_size = kByteVocabSize;
  tiny.bloom.hidden_size = 128;
  tiny.bloom.n_layer = 2;
  tiny.bloom.n_head = 4;
  models.push_back(tiny);

  ScratchModel small;
  small.name = "bloom-small";
  small.family = "bloom";
  small.description = "BLOOM architecture, 4 layers, hidden 256, 8 heads (~3.2M parameters)";
  small.bloom.vocab_size = kByteVocabSize;
  small.bloom.hidden_size = 256;
  small.bloom.n_layer = 4;
  small.bloom.n_head = 8;
  models.push_back(small);

  // bigscience/bloom-560m's configuration (vocabulary of its BPE tokenizer).
  ScratchModel full;
  full.name = "bloom-560m";
  full.family = "bloom";
  full.description =
      "BLOOM-560m configuration, 24 layers, hidden 1024, 16 heads (~560M parameters)";
  full.bloom = BloomConfig{};
  models.push_back(full);

  // TinyLlama-1.1B's shape (Llama 2 architecture, grouped-query attention): the ~1B Llama-style
  // model of the LoRA memory benchmark (tests/bench/lora_memory.py). Llama 2's 7B and 13B shapes
  // and Code Llama's 34B, for finding the largest model that LoRA trains on one GPU (tests/gpu/):
  // random weights are made in float32 on the CPU first, so the host needs about 4 bytes of
  // memory per parameter.
  for (const LlamaShape& shape : {
           LlamaShape{"llama-1b", "TinyLlama-1.1B configuration, 22 layers, hidden 2048, 32 heads "
                                  "(4 key/value), MLP 5632, vocabulary 32000 (~1.1B parameters)",
                      2048, 5632, 22, 32, 4, 2048, 10000.0},
           LlamaShape{"llama-7b", "Llama-2-7B configuration, 32 layers, hidden 4096, 32 heads, "
                                  "MLP 11008, vocabulary 32000 (~6.7B parameters)",
                      4096, 11008, 32, 32, 32, 4096, 10000.0},
           LlamaShape{"llama-13b", "Llama-2-13B configuration, 40 layers, hidden 5120, 40 heads, "
                                   "MLP 13824, vocabulary 32000 (~13B parameters)",
                      5120, 13824, 40, 40, 40, 4096, 10000.0},
           LlamaShape{"llama-34b", "Code Llama 34B configuration, 48 layers, hidden 8192, 64 heads "
                                   "(8 key/value), MLP 22016, vocabulary 32000 (~34B parameters)",
                      8192, 22016, 48, 64, 8, 4096, 1000000.0}}) {
    models.push_back(LlamaScratchModel(shape));
  }

  return models;
}

}  // namespace

const std::vector<ScratchModel>& ScratchModels() {
  static const std::vector<ScratchModel> models = BuildCatalog();
  return models;
}

std::optional<ScratchModel> FindScratchModel(std::string_view model) {
  if (model.substr(0, kScratchPrefix.size()) != kScratchPrefix) return std::nullopt;
  std::string_view name = model.substr(kScratchPrefix.size());
  for (const ScratchModel& candidate : ScratchModels()) {
    if (candidate.name == name) return candidate;
  }
  return std::nullopt;
}

std::string ScratchModelNames() {
  std::string names;
  for (const ScratchModel& model : ScratchModels()) {
    if (!names.empty()) names += ", ";
    names += std::string(kScratchPrefix) + model.name;
  }
  return names;
}

}  // namespace ft::models
