// Loss and accuracy of the model on a split, without gradients, in eval mode.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "worker/data/job_data.h"
#include "worker/models/trainable_model.h"
#include "worker/train/train_job.h"

namespace ft::train {

struct EvaluationOptions {
  int64_t batch_size = 32;
  int64_t max_examples = 0;  // 0: all; otherwise the first max_examples of the split
  bool bf16_autocast = false;  // forward under bfloat16 autocast (precision "bf16")
  // Class id -> name: the model's classes, for the per-class metrics and the confusion matrix.
  // Empty: as many as the model has outputs, named by their ids.
  std::vector<std::string> label_names = {};
  // Data parallel: this rank runs batches b with b % shard_count == shard_rank, then
  // sum_across_ranks (needed when shard_count > 1) sums the partial sums in place (loss, correct
  // predictions, confusion matrix, target tokens), so that every rank reports the numbers of one
  // process that ran every batch.
  int shard_rank = 0;
  int shard_count = 1;
  std::function<void(std::vector<torch::Tensor>&)> sum_across_ranks = nullptr;
};

// Mean per-example cross-entropy, accuracy, per-class precision/recall/F1, macro-F1 and the
// confusion matrix (class_metrics.h) over the (first max_examples) examples of `split`; for a
// causal LM's split the loss and accuracy per target token and the perplexity.
// Examples are batched in length order so that dynamic padding wastes little; the confusion
// matrix is accumulated on the device and read once at the end. Returns nullopt when
// stop_requested (polled between batches) says yes. The model's train/eval mode is restored.
std::optional<EvalReport> Evaluate(models::TrainableModelImpl& model,
                                   const TokenizedSplit& split, const EvaluationOptions& options,
                                   const torch::Device& device, int64_t step,
                                   const std::function<bool()>& stop_requested = nullptr);

}  // namespace ft::train
