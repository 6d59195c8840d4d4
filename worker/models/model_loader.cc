#include "models/model_loader.h"

#include <torch/types.h>
#include <torch/utils.h>

#include <filesystem>
#include <set>
#include <stdexcept>

#include "io/safetensors_reader.h"
#include "models/model_folder.h"
#include "tokenize/byte_tokenizer.h"

namespace ft::models {
namespace {

static_assert(tokenize::ByteTokenizer::kVocabSize == kByteTokenizerVocabSize,
              "the model folder check and the tokenizer must agree on the vocabulary");

constexpr std::string_view kTransformerPrefix = "transformer.";
constexpr const char* kHeadName = "score.weight";

std::string ShapeText(const std::vector<int64_t>& shape) {
  std::string text = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    text += (i > 0 ? ", " : "") + std::to_string(shape[i]);
  }
  return text + "]";
}

// The checkpoint's tensor for one of our parameter names: the same name, or without
// "transformer." as BloomModel checkpoints store it.
const io::SafetensorsEntry* FindTensor(const io::SafetensorsFile& file, const std::string& name) {
  if (const io::SafetensorsEntry* entry = file.Find(name)) return entry;
  if (name.compare(0, kTransformerPrefix.size(), kTransformerPrefix) == 0) {
    return file.Find(name.substr(kTransformerPrefix.size()));
  }
  return nullptr;
}

// Whether the checkpoint's head can be used; otherwise says why the fresh one stays.
bool UseCheckpointHead(const io::SafetensorsFile& file, const io::SafetensorsEntry* head,
                       const torch::Tensor& parameter, const ModelLog& log) {
  const int64_t num_labels = parameter.size(0);
  const std::string fresh = "initialised a fresh classification head for " +
                            std::to_string(num_labels) + " labels (seeded)";
  if (head == nullptr) {
    log("info", file.path() + " has no " + kHeadName + ": " + fresh);
    return false;
  }
  if (head->shape.size() == 2 && head->shape[1] == parameter.size(1) &&
      head->shape[0] != num_labels) {
    log("info", file.path() + ": " + kHeadName + " has " + std::to_string(head->shape[0]) +
                    " labels, the dataset " + std::to_string(num_labels) + ": " + fresh);
    return false;
  }
  return true;
}

}  // namespace

BloomForSequenceClassification BuildClassifier(const std::string& model, const BloomConfig& config,
                                               int64_t num_labels, const ModelLog& log) {
  BloomForSequenceClassification classifier(config, num_labels);
  if (!IsScratchModelName(model)) {
    LoadBloomWeights(classifier, (std::filesystem::path(model) / kModelWeightsFile).string(), log);
    if (config.vocab_size != kByteTokenizerVocabSize) {
      log("warning", "the byte-level tokenizer uses ids 0.." +
                         std::to_string(kByteTokenizerVocabSize - 1) + " of the checkpoint's " +
                         std::to_string(config.vocab_size) +
                         "-token vocabulary; its own tokenizer is not supported yet");
    }
  }
  return classifier;
}

void LoadBloomWeights(BloomForSequenceClassification& model, const std::string& safetensors_path,
                      const ModelLog& log) {
  std::unique_ptr<io::SafetensorsFile> file;
  try {
    file = io::SafetensorsFile::Open(safetensors_path);
  } catch (const io::SafetensorsError& error) {
    throw std::runtime_error(std::string("reading the checkpoint: ") + error.what());
  }
  torch::NoGradGuard no_grad;
  std::set<std::string> used;
  int64_t loaded = 0;
  for (auto& item : model->named_parameters(/*recurse=*/true)) {
    const std::string& name = item.key();
    torch::Tensor& parameter = item.value();
    const io::SafetensorsEntry* entry = FindTensor(*file, name);
    if (name == kHeadName && !UseCheckpointHead(*file, entry, parameter, log)) {
      if (entry != nullptr) used.insert(entry->name);  // seen, deliberately not used
      continue;
    }
    if (entry == nullptr) {
      throw std::runtime_error(safetensors_path + ": no tensor '" + name + "'" +
                               (name.compare(0, kTransformerPrefix.size(), kTransformerPrefix) == 0
                                    ? " (nor '" + name.substr(kTransformerPrefix.size()) + "')"
                                    : std::string()) +
                               ", which the configuration needs");
    }
    if (entry->shape != parameter.sizes().vec()) {
      throw std::runtime_error(safetensors_path + ": tensor '" + entry->name + "' has shape " +
                               ShapeText(entry->shape) + ", config.json implies " +
                               ShapeText(parameter.sizes().vec()));
    }
    TORCH_CHECK(parameter.is_contiguous() && parameter.scalar_type() == torch::kFloat32 &&
                    parameter.device().is_cpu(),
                "parameter ", name, " is not a contiguous float32 CPU tensor");
    try {
      file->ReadAsFloat32(*entry, parameter.data_ptr<float>());
    } catch (const io::SafetensorsError& error) {
      throw std::runtime_error(std::string("reading the checkpoint: ") + error.what());
    }
    used.insert(entry->name);
    ++loaded;
  }
  std::string unused;
  int64_t unused_count = 0;
  for (const io::SafetensorsEntry& entry : file->entries()) {
    if (used.count(entry.name) > 0) continue;
    if (++unused_count <= 3) unused += (unused.empty() ? "" : ", ") + entry.name;
  }
  std::string message = "loaded " + std::to_string(loaded) + " tensors from " + safetensors_path;
  if (unused_count > 0) {
    message += "; " + std::to_string(unused_count) + " tensors of the checkpoint are not used (" +
               unused + (unused_count > 3 ? ", ..." : "") + ")";
  }
  log("info", message);
}

}  // namespace ft::models
