// Where a Hugging Face folder keeps its weights, for the three places that look for them (ftd's
// check of a model folder, the Hub fetcher, the worker's checkpoint reader), and the index of a
// sharded checkpoint: {"weight_map": {"tensor name": "shard file name", ...}}.
// Standard library + nlohmann_json.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace ft::models {

// A checkpoint's weights: one file, or an index and the shards it names.
struct WeightFiles {
  std::string_view single;
  std::string_view index;
  bool torch_save;  // a torch.save zip (common/torchsave), else safetensors
};

// In transformers' order of preference: safetensors, else torch.save files (read by
// common/torchsave without running their pickle).
inline constexpr WeightFiles kWeightFormats[] = {
    {"model.safetensors", "model.safetensors.index.json", false},
    {"pytorch_model.bin", "pytorch_model.bin.index.json", true}};

// "model.safetensors, model.safetensors.index.json, pytorch_model.bin or
// pytorch_model.bin.index.json", for errors that say what was looked for.
std::string WeightFileNames();

// The distinct shard files `index_text`'s weight_map names, sorted. Each must be a plain file
// name inside the folder: not empty, no '/' or '\\', no "..". Throws std::invalid_argument
// starting with `where` for text that is not JSON, a weight_map that is missing, empty or not an
// object, and a value that is not such a file name.
std::vector<std::string> ShardsOfIndex(const std::string& index_text, const std::string& where);

}  // namespace ft::models
