// RAII: a module in eval mode for the scope, its previous train/eval mode restored on every exit
// path (evaluation, greedy samples and answers all run the training model in between steps).
// Include only from Torch translation units.
#pragma once

#include <torch/nn/module.h>

namespace ft::train {

class EvalModeScope {
 public:
  explicit EvalModeScope(torch::nn::Module& model)
      : model_(model), was_training_(model.is_training()) {
    model_.eval();
  }
  ~EvalModeScope() {
    if (was_training_) model_.train();
  }
  EvalModeScope(const EvalModeScope&) = delete;
  EvalModeScope& operator=(const EvalModeScope&) = delete;

 private:
  torch::nn::Module& model_;
  bool was_training_;
};

}  // namespace ft::train
