#include "common/models/model_catalog.h"

namespace ft::models {
namespace {

constexpr std::string_view kScratchPrefix = "scratch:";

constexpr int64_t kByteVocabSize = kByteTokenizerVocabSize;

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
