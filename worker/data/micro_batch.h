// Turning a list of example indices into padded tensors (dynamic padding: each micro-batch is
// padded to its own longest sequence, on the right, with the pad id and attention mask 0).
#pragma once

#include <torch/types.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "worker/data/job_data.h"

namespace ft::train {

struct MicroBatch {
  torch::Tensor input_ids;       // [examples, longest] int64
  torch::Tensor attention_mask;  // [examples, longest] int64, 1 = token, 0 = padding
  // Sequence classification: [examples] int64 classes. Causal LM: [examples, longest] int64,
  // the token itself where it is a target, kIgnoredLabel elsewhere (prompt, padding, the first
  // token): Hugging Face's labels, which the loss shifts by one.
  torch::Tensor labels;
  int64_t examples = 0;
  int64_t tokens = 0;   // non-padding tokens
  int64_t targets = 0;  // causal LM: target tokens (the loss's terms); classification: examples
};

// The label of a position that is not a target (PyTorch's and Hugging Face's ignore_index).
inline constexpr int64_t kIgnoredLabel = -100;

MicroBatch CollateMicroBatch(const TokenizedSplit& split, const std::vector<std::size_t>& indices,
                             const torch::Device& device);

// The batch's tensors on `device` (no copy when they are there already).
MicroBatch ToDevice(MicroBatch batch, const torch::Device& device);

}  // namespace ft::train
