#include "common/models/model_folder.h"

#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <optional>
#include <vector>

#include "common/models/config_reader.h"
#include "common/models/hf_config.h"
#include "common/models/weight_index.h"
#include "common/torchsave/torch_save_file.h"

namespace ft::models {
namespace {

using Json = nlohmann::json;

// Bounds against a config that would ask for absurd allocations (BLOOM-176B: hidden 14336,
// 70 layers, 112 heads, vocabulary 250880).
constexpr int64_t kMaxHiddenSize = 1 << 16;
constexpr int64_t kMaxLayers = 1024;
constexpr int64_t kMaxVocabSize = 1 << 24;

constexpr std::string_view kScratchPrefix = "scratch:";

std::string Quoted(const std::string& text) { return "'" + text + "'"; }

std::string ReadText(const std::filesystem::path& path) {
  std::error_code error;
  if (!std::filesystem::is_regular_file(path, error)) {
    throw ModelFolderError(false, path.string() + ": not a regular file");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ModelFolderError(false, path.string() + ": cannot read");
  try {
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  } catch (const std::exception& e) {  // libstdc++ throws from a failed read (EISDIR, EIO)
    throw ModelFolderError(false, path.string() + ": cannot read: " + e.what());
  }
}

// Opens a torch.save file as the worker will (its zip directory and pickle, not its tensors).
void CheckTorchSaveFile(const std::string& path) {
  try {
    torchsave::TorchSaveFile::Open(path);
  } catch (const torchsave::TorchSaveError& bad) {
    throw ModelFolderError(false, bad.what());
  }
}

}  // namespace

bool IsScratchModelName(std::string_view model) {
  return model.substr(0, kScratchPrefix.size()) == kScratchPrefix;
}

BloomConfig ParseBloomConfigJson(const std::string& text, const std::string& file) {
  Json json;
  try {
    json = Json::parse(text);
  } catch (const Json::exception& error) {  // parse_error, or out_of_range for 1e999
    throw ModelFolderError(false, file + ": not valid JSON: " + error.what());
  }
  const ConfigReader reader(json, file, "a BloomConfig");
  if (!json.is_object()) reader.Fail("expected a JSON object");
  const auto type = json.find("model_type");
  if (type == json.end() || !type->is_string()) {
    reader.Fail("model_type: missing; only BLOOM checkpoints (\"model_type\": \"bloom\") load");
  }
  if (type->get<std::string>() != "bloom") {
    reader.Fail("model_type: " + Quoted(type->get<std::string>()) +
                " is not supported; only \"bloom\" is implemented");
  }
  const auto post_layernorm = json.find("apply_residual_connection_post_layernorm");
  if (post_layernorm != json.end() && post_layernorm->is_boolean() && post_layernorm->get<bool>()) {
    reader.Fail("apply_residual_connection_post_layernorm: true is not implemented (only false)");
  }
  // Every released BLOOM trains without dropout; ftd's BLOOM has none to apply.
  for (const char* rate : {"hidden_dropout", "attention_dropout"}) {
    if (reader.Rate(rate, 0.0) != 0) {
      reader.Fail(std::string(rate) + ": dropout is not implemented for BLOOM (only 0, as "
                  "every released BLOOM checkpoint sets it)");
    }
  }

  BloomConfig config;
  // Hugging Face's BloomConfig takes n_embed over hidden_size when both are given; refuse a
  // config where they disagree instead of guessing.
  config.hidden_size = reader.Required({"n_embed", "hidden_size"}, 1, kMaxHiddenSize);
  config.n_layer = reader.Required({"n_layer", "num_hidden_layers"}, 1, kMaxLayers);
  config.n_head = reader.Required({"n_head", "num_attention_heads"}, 1, config.hidden_size);
  config.vocab_size = reader.Required({"vocab_size"}, 1, kMaxVocabSize);
  if (config.hidden_size % config.n_head != 0) {
    reader.Fail("hidden_size " + std::to_string(config.hidden_size) +
                " is not divisible by n_head " + std::to_string(config.n_head));
  }
  if (config.vocab_size < kByteTokenizerVocabSize) {
    reader.Fail("vocab_size " + std::to_string(config.vocab_size) + " is smaller than the " +
                std::to_string(kByteTokenizerVocabSize) +
                " ids of the byte-level tokenizer (the only tokenizer implemented yet)");
  }
  config.layer_norm_epsilon = reader.Real("layer_norm_epsilon", config.layer_norm_epsilon, 0, 1);
  config.initializer_range = reader.Real("initializer_range", config.initializer_range, 0, 10);
  for (auto [name, field] : {std::pair{"pad_token_id", &config.pad_token_id},
                             std::pair{"bos_token_id", &config.bos_token_id},
                             std::pair{"eos_token_id", &config.eos_token_id}}) {
    if (const std::optional<int64_t> id = reader.Integer({name})) *field = *id;
  }
  return config;
}

ModelConfig ReadModelFolderConfig(const std::string& folder) {
  namespace fs = std::filesystem;
  const std::string hint =
      "; spec.model is scratch:NAME (" + ScratchModelNames() +
      "), a local Hugging Face folder with config.json and model.safetensors or pytorch_model.bin "
      "(or their shards), or a "
      "TorchScript .pt file (Hub names are not downloaded)";
  std::error_code error;
  const fs::file_status status = fs::status(folder, error);
  if (!fs::exists(status)) throw ModelFolderError(true, folder + ": no such folder" + hint);
  if (fs::is_regular_file(status) && fs::path(folder).extension() == kTorchScriptExtension) {
    ModelConfig config;
    config.family = ModelFamily::kTorchScript;
    config.model_type = "torchscript";
    config.source = folder;
    return config;
  }
  if (!fs::is_directory(status)) throw ModelFolderError(false, folder + ": not a folder" + hint);
  const fs::path config_path = fs::path(folder) / kModelConfigFile;
  if (!fs::exists(config_path, error)) {
    throw ModelFolderError(true, config_path.string() + ": no such file" + hint);
  }
  ModelConfig config = ParseModelConfigJson(ReadText(config_path), config_path.string());
  config.source = folder;
  // The first format the folder has decides (transformers' preference): safetensors are read
  // as they are, a torch.save file is checked now, each shard of it.
  for (const WeightFiles& format : kWeightFormats) {
    const fs::path single = fs::path(folder) / format.single;
    const fs::path index = fs::path(folder) / format.index;
    if (fs::is_regular_file(single, error)) {
      if (format.torch_save) CheckTorchSaveFile(single.string());
      return config;
    }
    if (!fs::is_regular_file(index, error)) continue;
    if (!format.torch_save) return config;
    std::vector<std::string> shards;
    try {
      shards = ShardsOfIndex(ReadText(index), index.string());
    } catch (const std::invalid_argument& bad) {
      throw ModelFolderError(false, bad.what());
    }
    for (const std::string& shard : shards) {
      const fs::path shard_path = fs::path(folder) / shard;
      if (!fs::is_regular_file(shard_path, error)) {
        throw ModelFolderError(true, index.string() + ": weight_map names " + shard +
                                         ", which does not exist in " + folder);
      }
      CheckTorchSaveFile(shard_path.string());
    }
    return config;
  }
  throw ModelFolderError(true, folder + ": no model weights (" + WeightFileNames() + ")");
}

}  // namespace ft::models
