// A copy of a model's trainable parameters in host memory (a LoRA model's frozen base never
// changes, so it is not copied), e.g. the weights of the best validation evaluation
// (keep_best_model): taken while training goes on, written into checkpoints, and copied back into
// the model before the test evaluation and the export.
#pragma once

#include <torch/serialize/archive.h>
#include <torch/types.h>

#include <string>
#include <utility>
#include <vector>

#include "worker/models/trainable_model.h"

namespace ft::train {

class WeightsSnapshot {
 public:
  // Replaces the copy with the model's current trainable parameters (one device-to-host copy
  // each).
  void Take(models::TrainableModelImpl& model);
  bool empty() const { return tensors_.empty(); }
  // Copies the snapshot into the model's parameters (on the model's device).
  void CopyInto(models::TrainableModelImpl& model) const;

  void Save(torch::serialize::OutputArchive& archive) const;
  // Reads what Save wrote, for `model`'s parameter names; throws when one is missing.
  void Load(torch::serialize::InputArchive& archive, models::TrainableModelImpl& model);

 private:
  std::vector<std::pair<std::string, torch::Tensor>> tensors_;  // parameter name -> host copy
};

// An archive key for a parameter name: letters, digits and '_' only, as TorchScript attributes
// ("transformer.h.0.mlp.dense_4h_to_h.weight" -> "transformer_h_0_mlp_dense_4h_to_h_weight").
std::string ParameterArchiveKey(std::string name);

}  // namespace ft::train
