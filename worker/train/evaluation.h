// Loss and accuracy of the model on a split, without gradients, in eval mode.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "models/bloom_model.h"
#include "train/job_data.h"
#include "train/train_job.h"

namespace ft::train {

struct EvaluationOptions {
  int64_t batch_size = 32;
  int64_t max_examples = 0;  // 0: all; otherwise the first max_examples of the split
  bool bf16_autocast = false;  // forward under bfloat16 autocast (precision "bf16")
};

// Mean per-example cross-entropy and accuracy over the (first max_examples) examples of `split`.
// Examples are batched in length order so that dynamic padding wastes little. Returns nullopt
// when stop_requested (polled between batches) says yes. Restores train mode afterwards.
std::optional<EvalReport> Evaluate(models::BloomForSequenceClassification& model,
                                   const TokenizedSplit& split, const EvaluationOptions& options,
                                   const torch::Device& device, int64_t step,
                                   const std::function<bool()>& stop_requested = nullptr);

}  // namespace ft::train
