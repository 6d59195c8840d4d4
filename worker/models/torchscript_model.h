// The escape hatch for any architecture: a TorchScript module (torch.jit.script/trace, saved
// with .save) whose forward(input_ids, attention_mask) returns logits [batch, num_labels] trains
// through the same loop. Its parameters are registered (same tensors) under their names with '.'
// as "__", so the optimizer, checkpoints and snapshots see them. Include only from Torch
// translation units.
#pragma once

#include <torch/script.h>

#include <string>
#include <vector>

#include "worker/models/trainable_model.h"

namespace ft::models {

class TorchScriptClassifierImpl : public TrainableModelImpl {
 public:
  TorchScriptClassifierImpl(torch::jit::Module module, int64_t num_labels, std::string path);

  torch::Tensor forward(const torch::Tensor& input_ids,
                        const torch::Tensor& attention_mask) override;
  int64_t num_labels() const override { return num_labels_; }
  void set_activation_checkpointing(bool /*on*/) override {}  // no blocks known to us
  std::string BaseModelPrefix() const override { return ""; }
  std::vector<std::string> HeadParameterNames() const override { return {}; }
  // Not a Hugging Face configuration: the label maps and where the module came from.
  std::string HfConfigJson(const std::vector<std::string>& label_names) const override;

  void to(torch::Device device, torch::Dtype dtype, bool non_blocking = false) override;
  void to(torch::Dtype dtype, bool non_blocking = false) override;
  void to(torch::Device device, bool non_blocking = false) override;
  void train(bool on = true) override;

  // Writes the module (with the trained weights) as a TorchScript file.
  void Save(const std::string& path);

 private:
  torch::jit::Module module_;
  int64_t num_labels_;
  std::string path_;
};
TORCH_MODULE(TorchScriptClassifier);

// Loads `path` on the CPU and checks that forward(input_ids, attention_mask) of one short row
// returns float logits [1, num_labels]. Throws std::runtime_error naming the file otherwise.
TorchScriptClassifier LoadTorchScriptClassifier(const std::string& path, int64_t num_labels);

}  // namespace ft::models
