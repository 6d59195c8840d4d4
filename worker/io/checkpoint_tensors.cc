#include "worker/io/checkpoint_tensors.h"

#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>

namespace ft::io {
namespace {

namespace fs = std::filesystem;

constexpr const char* kSingleFile = "model.safetensors";
constexpr const char* kIndexFile = "model.safetensors.index.json";

std::string ReadIndex(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw SafetensorsError(path.string() + ": cannot read");
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// A shard name must stay inside the folder: a plain file name.
bool PlainFileName(const std::string& name) {
  return !name.empty() && name != "." && name != ".." && name.find('/') == std::string::npos &&
         name.find('\\') == std::string::npos;
}

}  // namespace

std::unique_ptr<CheckpointTensors> CheckpointTensors::Open(const std::string& folder) {
  std::unique_ptr<CheckpointTensors> tensors(new CheckpointTensors());
  const fs::path single = fs::path(folder) / kSingleFile;
  std::error_code error;
  if (fs::exists(single, error) || !fs::exists(fs::path(folder) / kIndexFile, error)) {
    tensors->description_ = single.string();
    tensors->files_.push_back(SafetensorsFile::Open(single.string()));
    for (const SafetensorsEntry& entry : tensors->files_[0]->entries()) {
      tensors->tensors_[entry.name] = {tensors->files_[0].get(), &entry};
    }
    return tensors;
  }

  const fs::path index_path = fs::path(folder) / kIndexFile;
  const std::string where = index_path.string();
  nlohmann::json index;
  try {
    index = nlohmann::json::parse(ReadIndex(index_path));
  } catch (const nlohmann::json::exception& parse_error) {  // out_of_range too (1e999)
    throw SafetensorsError(where + ": not valid JSON: " + parse_error.what());
  }
  if (!index.is_object()) throw SafetensorsError(where + ": expected a JSON object");
  const auto map = index.find("weight_map");
  if (map == index.end() || !map->is_object()) {
    throw SafetensorsError(where + ": weight_map: missing or not an object of tensor -> file");
  }
  if (map->empty()) throw SafetensorsError(where + ": weight_map: lists no tensor");
  std::map<std::string, const SafetensorsFile*> shards;
  for (const auto& [name, file] : map->items()) {
    if (!file.is_string() || !PlainFileName(file.get<std::string>())) {
      throw SafetensorsError(where + ": weight_map['" + name + "']: expected a file name in " +
                             folder + ", got " + file.dump());
    }
    const std::string shard = file.get<std::string>();
    auto it = shards.find(shard);
    if (it == shards.end()) {
      const fs::path shard_path = fs::path(folder) / shard;
      if (!fs::is_regular_file(shard_path, error)) {
        throw SafetensorsError(where + ": weight_map['" + name + "'] names " + shard +
                               ", which does not exist in " + folder);
      }
      tensors->files_.push_back(SafetensorsFile::Open(shard_path.string()));
      it = shards.emplace(shard, tensors->files_.back().get()).first;
    }
    const SafetensorsEntry* entry = it->second->Find(name);
    if (entry == nullptr) {
      throw SafetensorsError(where + ": weight_map['" + name + "'] names " + shard +
                             ", which has no tensor '" + name + "'");
    }
    tensors->tensors_[name] = {it->second, entry};
  }
  tensors->description_ = where + " (" + std::to_string(shards.size()) + " shards)";
  return tensors;
}

CheckpointTensors::Tensor CheckpointTensors::Find(const std::string& name) const {
  const auto it = tensors_.find(name);
  return it == tensors_.end() ? Tensor{nullptr, nullptr} : it->second;
}

std::vector<std::string> CheckpointTensors::Names() const {
  std::vector<std::string> names;
  names.reserve(tensors_.size());
  for (const auto& item : tensors_) names.push_back(item.first);
  return names;
}

}  // namespace ft::io
