#include "worker/adapters/lora_checkpoint.h"

#include <torch/types.h>

#include "worker/adapters/lora_model.h"
#include "worker/data/file_identity.h"
#include "worker/train/weights_snapshot.h"

namespace ft::adapters {

void SaveTrainableTensors(torch::nn::Module& model, torch::serialize::OutputArchive& archive) {
  for (const auto& [name, tensor] : NamedTrainableParameters(model)) {
    archive.write(train::ParameterArchiveKey(name), tensor);
  }
}

void LoadTrainableTensors(torch::nn::Module& model, torch::serialize::InputArchive& archive) {
  for (auto& [name, tensor] : NamedTrainableParameters(model)) {
    torch::Tensor handle = tensor;  // read() replaces the storage behind this parameter
    archive.read(train::ParameterArchiveKey(name), handle);
  }
}

std::string FrozenWeightsHash(torch::nn::Module& model) {
  train::ContentHash hash;
  for (const auto& item : model.named_parameters()) {
    const torch::Tensor& parameter = item.value();
    if (parameter.requires_grad()) continue;
    hash.Add(item.key().data(), item.key().size());
    hash.AddWord(static_cast<uint64_t>(parameter.scalar_type()));
    for (int64_t size : parameter.sizes()) hash.AddWord(static_cast<uint64_t>(size));
    const torch::Tensor host = parameter.detach().to(torch::kCPU).contiguous();
    hash.Add(host.data_ptr(), static_cast<std::size_t>(host.nbytes()));
  }
  return hash.Hex();
}

}  // namespace ft::adapters
