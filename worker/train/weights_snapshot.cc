#include "worker/train/weights_snapshot.h"

#include <torch/utils.h>

#include <algorithm>
#include <stdexcept>

namespace ft::train {

std::string ParameterArchiveKey(std::string name) {
  std::replace(name.begin(), name.end(), '.', '_');
  return name;
}

void WeightsSnapshot::Take(models::TrainableModelImpl& model) {
  torch::NoGradGuard no_grad;
  tensors_.clear();
  for (const auto& item : model.named_parameters()) {
    if (!item.value().requires_grad()) continue;
    tensors_.emplace_back(item.key(), item.value().detach().to(torch::kCPU, /*non_blocking=*/false,
                                                               /*copy=*/true));
  }
}

void WeightsSnapshot::CopyInto(models::TrainableModelImpl& model) const {
  torch::NoGradGuard no_grad;
  auto parameters = model.named_parameters();
  for (const auto& [name, tensor] : tensors_) {
    torch::Tensor* target = parameters.find(name);
    if (target == nullptr) throw std::runtime_error("the model has no parameter " + name);
    target->copy_(tensor);
  }
}

void WeightsSnapshot::Save(torch::serialize::OutputArchive& archive) const {
  for (const auto& [name, tensor] : tensors_)
    archive.write(ParameterArchiveKey(name), tensor, /*is_buffer=*/true);
}

void WeightsSnapshot::Load(torch::serialize::InputArchive& archive,
                           models::TrainableModelImpl& model) {
  tensors_.clear();
  for (const auto& item : model.named_parameters()) {
    if (!item.value().requires_grad()) continue;
    torch::Tensor tensor;
    archive.read(ParameterArchiveKey(item.key()), tensor, /*is_buffer=*/true);
    tensors_.emplace_back(item.key(), tensor.to(torch::kCPU));
  }
}

}  // namespace ft::train
