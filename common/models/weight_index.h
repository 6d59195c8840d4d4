// The index of a sharded checkpoint (model.safetensors.index.json, pytorch_model.bin.index.json):
// {"weight_map": {"tensor name": "shard file name", ...}}. One reading of it for the three places
// that need its shard files: ftd's check of a model folder, the Hub fetcher and its snapshot check.
// Standard library + nlohmann_json.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

namespace ft::models {

// The distinct shard files `index_text`'s weight_map names, sorted. Each must be a plain file
// name inside the folder: not empty, no '/' or '\\', no "..". Throws std::invalid_argument
// starting with `where` for text that is not JSON, a weight_map that is missing, empty or not an
// object, and a value that is not such a file name.
std::vector<std::string> ShardsOfIndex(const std::string& index_text, const std::string& where);

}  // namespace ft::models
