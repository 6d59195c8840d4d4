#include "worker/io/checkpoint_tensors.h"

#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>

#include "common/models/weight_index.h"

namespace ft::io {
namespace {

namespace fs = std::filesystem;

class SafetensorsTensor : public CheckpointTensor {
 public:
  SafetensorsTensor(const SafetensorsFile& file, const SafetensorsEntry& entry)
      : file_(file), entry_(entry) {}
  const std::string& name() const override { return entry_.name; }
  const std::vector<int64_t>& shape() const override { return entry_.shape; }
  const std::string& path() const override { return file_.path(); }
  void ReadAsFloat32(float* out) const override { file_.ReadAsFloat32(entry_, out); }

 private:
  const SafetensorsFile& file_;
  const SafetensorsEntry& entry_;
};

class TorchSaveTensor : public CheckpointTensor {
 public:
  TorchSaveTensor(const torchsave::TorchSaveFile& file, const torchsave::TorchSaveTensor& tensor)
      : file_(file), tensor_(tensor) {}
  const std::string& name() const override { return tensor_.view.name; }
  const std::vector<int64_t>& shape() const override { return tensor_.view.shape; }
  const std::string& path() const override { return file_.path(); }
  void ReadAsFloat32(float* out) const override { file_.ReadAsFloat32(tensor_, out); }

 private:
  const torchsave::TorchSaveFile& file_;
  const torchsave::TorchSaveTensor& tensor_;
};

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

bool Exists(const fs::path& path) {
  std::error_code error;
  return fs::exists(path, error);
}

}  // namespace

CheckpointTensors::~CheckpointTensors() = default;

std::map<std::string, std::unique_ptr<CheckpointTensor>> CheckpointTensors::OpenFile(
    const std::string& path) {
  std::map<std::string, std::unique_ptr<CheckpointTensor>> tensors;
  if (fs::path(path).extension() == ".bin") {
    torch_files_.push_back(torchsave::TorchSaveFile::Open(path));
    const torchsave::TorchSaveFile& file = *torch_files_.back();
    for (const torchsave::TorchSaveTensor& tensor : file.tensors()) {
      tensors[tensor.view.name] = std::make_unique<TorchSaveTensor>(file, tensor);
    }
    return tensors;
  }
  safetensors_files_.push_back(SafetensorsFile::Open(path));
  const SafetensorsFile& file = *safetensors_files_.back();
  for (const SafetensorsEntry& entry : file.entries()) {
    tensors[entry.name] = std::make_unique<SafetensorsTensor>(file, entry);
  }
  return tensors;
}

std::unique_ptr<CheckpointTensors> CheckpointTensors::Open(const std::string& folder) {
  std::unique_ptr<CheckpointTensors> tensors(new CheckpointTensors());
  const fs::path base(folder);
  for (const models::WeightFiles& format : models::kWeightFormats) {
    const std::string single = (base / format.single).string();
    if (Exists(single)) {
      tensors->description_ = single;
      tensors->tensors_ = tensors->OpenFile(single);
      return tensors;
    }
    const std::string index = (base / format.index).string();
    if (Exists(index)) {
      tensors->OpenIndex(folder, index, format.torch_save);
      return tensors;
    }
  }
  throw SafetensorsError(folder + ": no " + models::WeightFileNames() +
                         ": the folder holds no model weights");
}

void CheckpointTensors::OpenIndex(const std::string& folder, const std::string& where,
                                  bool torch_format) {
  const auto fail = [torch_format, &where](const std::string& message) {
    if (torch_format) throw torchsave::TorchSaveError(where + ": " + message);
    throw SafetensorsError(where + ": " + message);
  };
  nlohmann::json index;
  try {
    index = nlohmann::json::parse(ReadIndex(where));
  } catch (const nlohmann::json::exception& parse_error) {  // out_of_range too (1e999)
    fail(std::string("not valid JSON: ") + parse_error.what());
  }
  if (!index.is_object()) fail("expected a JSON object");
  const auto map = index.find("weight_map");
  if (map == index.end() || !map->is_object()) {
    fail("weight_map: missing or not an object of tensor -> file");
  }
  if (map->empty()) fail("weight_map: lists no tensor");
  std::map<std::string, std::map<std::string, std::unique_ptr<CheckpointTensor>>> shards;
  for (const auto& [name, file] : map->items()) {
    if (!file.is_string() || !PlainFileName(file.get<std::string>())) {
      fail("weight_map['" + name + "']: expected a file name in " + folder + ", got " +
           file.dump());
    }
    const std::string shard = file.get<std::string>();
    auto it = shards.find(shard);
    if (it == shards.end()) {
      const fs::path shard_path = fs::path(folder) / shard;
      std::error_code error;
      if (!fs::is_regular_file(shard_path, error)) {
        fail("weight_map['" + name + "'] names " + shard + ", which does not exist in " + folder);
      }
      it = shards.emplace(shard, OpenFile(shard_path.string())).first;
    }
    auto tensor = it->second.find(name);
    if (tensor == it->second.end() || tensor->second == nullptr) {
      fail("weight_map['" + name + "'] names " + shard + ", which has no tensor '" + name + "'");
    }
    tensors_[name] = std::move(tensor->second);
  }
  description_ = where + " (" + std::to_string(shards.size()) + " shards)";
}

const CheckpointTensor* CheckpointTensors::Find(const std::string& name) const {
  const auto it = tensors_.find(name);
  return it == tensors_.end() ? nullptr : it->second.get();
}

std::vector<std::string> CheckpointTensors::Names() const {
  std::vector<std::string> names;
  names.reserve(tensors_.size());
  for (const auto& item : tensors_) names.push_back(item.first);
  return names;
}

}  // namespace ft::io
