// The tensors of a Hugging Face checkpoint folder: one model.safetensors, or the shards that
// model.safetensors.index.json names ({"weight_map": {"tensor name": "model-00001-of-00002
// .safetensors", ...}}). Every file is opened and checked (safetensors_reader.h) before any
// tensor is read. Standard library + nlohmann_json only.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "worker/io/safetensors_reader.h"

namespace ft::io {

class CheckpointTensors {
 public:
  // Prefers model.safetensors when both it and the index exist (as transformers does). Throws
  // SafetensorsError naming the file (and the field or tensor) for: a malformed index (not JSON,
  // no "weight_map" object, a shard name that is not a plain file name), a shard that does not
  // exist or is malformed, and a tensor the index lists that its shard does not hold.
  static std::unique_ptr<CheckpointTensors> Open(const std::string& folder);

  struct Tensor {
    const SafetensorsFile* file;
    const SafetensorsEntry* entry;
  };
  // nullptr file when the checkpoint has no tensor of that name.
  Tensor Find(const std::string& name) const;
  // Every tensor name, sorted.
  std::vector<std::string> Names() const;
  // "<folder>/model.safetensors" or "<folder>/model.safetensors.index.json (3 shards)".
  const std::string& description() const { return description_; }

 private:
  CheckpointTensors() = default;

  std::string description_;
  std::vector<std::unique_ptr<SafetensorsFile>> files_;
  std::map<std::string, Tensor> tensors_;
};

}  // namespace ft::io
