// The tensors of a Hugging Face checkpoint folder, in the first of these that exists (the order
// transformers prefers):
//   model.safetensors
//   model.safetensors.index.json   {"weight_map": {"tensor name": "model-00001-of-00002
//                                   .safetensors", ...}} and the shards it names
//   pytorch_model.bin              a torch.save state dict, read by common/torchsave without
//                                  running its pickle
//   pytorch_model.bin.index.json   the same index, naming pytorch_model-0000k-of-0000n.bin shards
// Every file is opened and checked (safetensors_reader.h, torchsave/torch_save_file.h) before
// any tensor is read. Standard library + nlohmann_json only.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/torchsave/torch_save_file.h"
#include "worker/io/safetensors_reader.h"

namespace ft::io {

// One tensor of a checkpoint, whichever file format holds it.
class CheckpointTensor {
 public:
  virtual ~CheckpointTensor() = default;
  virtual const std::string& name() const = 0;
  virtual const std::vector<int64_t>& shape() const = 0;
  // The file that holds it.
  virtual const std::string& path() const = 0;
  // Converts it to float32 into out[0 .. element count) in row-major order. Throws
  // SafetensorsError or torchsave::TorchSaveError naming the tensor for a dtype that is not a
  // floating-point one.
  virtual void ReadAsFloat32(float* out) const = 0;
};

class CheckpointTensors {
 public:
  // Throws SafetensorsError (safetensors files and their index) or torchsave::TorchSaveError
  // (.bin files and their index), naming the file (and the field or tensor) for: no weights
  // file at all, a malformed index (not JSON, no "weight_map" object, a shard name that is not a
  // plain file name), a shard that does not exist or is malformed, and a tensor the index lists
  // that its shard does not hold.
  static std::unique_ptr<CheckpointTensors> Open(const std::string& folder);
  ~CheckpointTensors();

  // nullptr when the checkpoint has no tensor of that name.
  const CheckpointTensor* Find(const std::string& name) const;
  // Every tensor name, sorted.
  std::vector<std::string> Names() const;
  // "<folder>/model.safetensors" or "<folder>/pytorch_model.bin.index.json (3 shards)".
  const std::string& description() const { return description_; }

 private:
  CheckpointTensors() = default;
  // Opens one weights file (of the format its name ends with) and lists its tensors.
  std::map<std::string, std::unique_ptr<CheckpointTensor>> OpenFile(const std::string& path);
  void OpenIndex(const std::string& folder, const std::string& index_path, bool torch_format);

  std::string description_;
  std::vector<std::unique_ptr<SafetensorsFile>> safetensors_files_;
  std::vector<std::unique_ptr<torchsave::TorchSaveFile>> torch_files_;
  std::map<std::string, std::unique_ptr<CheckpointTensor>> tensors_;
};

}  // namespace ft::io
