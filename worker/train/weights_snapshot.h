// A copy of a model's parameters in host memory, e.g. the weights of the best validation
// evaluation (keep_best_model): taken while training goes on, written into checkpoints, and
// copied back into the model before the test evaluation and the export.
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
  // Replaces the copy with the model's current parameters (one device-to-host copy each).
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

}  // namespace ft::train
