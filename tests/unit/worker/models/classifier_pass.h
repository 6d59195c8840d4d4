// One forward and backward pass of a Hugging Face classifier folder through our loader, the
// procedure of transformers' reference fixtures (tests/fixtures/hf: mean cross-entropy, gradient
// norms by transformers' names), and its figures against such a fixture entry. Torch test
// translation units only.
#pragma once

#include <torch/nn/functional/loss.h>
#include <torch/types.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/models/model_folder.h"
#include "tests/unit/worker/models/hf_fixture.h"
#include "worker/models/model_loader.h"

namespace ft::testing {

// The folder's model with a fresh head of num_labels where it has none (drawn from seed 11).
inline models::TrainableModel LoadFolder(const std::filesystem::path& folder, int64_t num_labels,
                                         std::string* log = nullptr) {
  torch::manual_seed(11);
  return models::BuildModel(models::ReadModelFolderConfig(folder.string()), num_labels,
                            [log](const std::string& level, const std::string& message) {
                              if (log != nullptr) *log += level + ": " + message + "\n";
                            });
}

// A fixture folder's batch (expected.json: input_ids, attention_mask, labels) and its label count.
struct FixtureBatch {
  torch::Tensor ids;
  torch::Tensor mask;
  torch::Tensor labels;
  int64_t num_labels = 0;
};

inline FixtureBatch ReadFixtureBatch(const std::filesystem::path& folder) {
  const nlohmann::json expected = ReadJsonFile(folder / "expected.json");
  FixtureBatch batch;
  batch.ids = JsonMatrix(expected["input_ids"], torch::kInt64);
  batch.mask = JsonMatrix(expected["attention_mask"], torch::kInt64);
  std::vector<int64_t> labels;
  for (const nlohmann::json& label : expected["labels"]) labels.push_back(label.get<int64_t>());
  batch.labels = torch::tensor(labels, torch::kInt64);
  batch.num_labels = static_cast<int64_t>(expected["before"]["logits"][0].size());
  return batch;
}

// What one forward + backward gives, as transformers' reference computes it (mean cross-entropy).
struct Pass {
  torch::Tensor logits;
  double loss = 0;
  GradientNorms norms;
};

// In the model's current train/eval mode.
inline Pass ForwardBackward(models::TrainableModelImpl& model, const torch::Tensor& ids,
                            const torch::Tensor& mask, const torch::Tensor& labels) {
  model.zero_grad(/*set_to_none=*/true);
  Pass pass;
  pass.logits = model.forward(ids, mask);
  const torch::Tensor loss = torch::nn::functional::cross_entropy(pass.logits, labels);
  loss.backward();
  pass.loss = loss.item<double>();
  pass.norms = NormsOfGradients(model.named_parameters());
  pass.logits = pass.logits.detach();
  return pass;
}

// Against a fixture entry {"logits", "loss", "grad_norm", "grad_norms"}.
inline ParityFigures Compare(const Pass& ours, const nlohmann::json& theirs) {
  ParityFigures figures;
  figures.logits = MaxDifference(ours.logits, JsonMatrix(theirs["logits"], torch::kFloat64));
  figures.loss = std::abs(ours.loss - theirs["loss"].get<double>());
  CompareGradientNorms(ours.norms, theirs, figures);
  return figures;
}

}  // namespace ft::testing
