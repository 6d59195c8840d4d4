#include "worker/adapters/lora_checkpoint.h"

#include <torch/types.h>

#include "worker/adapters/lora_model.h"
#include "worker/data/file_identity.h"

namespace ft::adapters {
namespace {

// An archive's keys become attribute names of a TorchScript class, which must be identifiers:
// "transformer.h.0.self_attention.query_key_value.lora_A.weight" is stored as
// "p_transformer_h_0_self_attention_query_key_value_lora_A_weight".
std::string ArchiveKey(const std::string& name) {
  std::string key = "p_" + name;
  for (char& c : key) {
    if (c == '.') c = '_';
  }
  return key;
}

}  // namespace

void SaveTrainableTensors(torch::nn::Module& model, torch::serialize::OutputArchive& archive) {
  for (const auto& [name, tensor] : NamedTrainableParameters(model)) {
    archive.write(ArchiveKey(name), tensor);
  }
}

void LoadTrainableTensors(torch::nn::Module& model, torch::serialize::InputArchive& archive) {
  for (auto& [name, tensor] : NamedTrainableParameters(model)) {
    torch::Tensor handle = tensor;  // read() replaces the storage behind this parameter
    archive.read(ArchiveKey(name), handle);
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
