// Turning a list of example indices into padded tensors (dynamic padding: each micro-batch is
// padded to its own longest sequence, on the right, with the pad id and attention mask 0).
#pragma once

#include <torch/types.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "worker/data/example_sampler.h"
#include "worker/data/job_data.h"

namespace ft::train {

// Packed rows (packing.h) hold several examples end to end: their attention mask numbers the
// examples of each row 1, 2, 3, ... so that the model can keep attention and positions inside each
// example; an unpacked row's mask is all 1 (transformer_parts.h, SegmentPositions).
struct MicroBatch {
  torch::Tensor input_ids;       // [rows, longest] int64 (a row: an example, or packed examples)
  // [rows, longest] int64: the token's example within its row (1, 2, ...), 0 = padding
  torch::Tensor attention_mask;
  // Sequence classification: [examples] int64 classes. Causal LM: [examples, longest] int64,
  // the token itself where it is a target, kIgnoredLabel elsewhere (prompt, padding, the first
  // token): Hugging Face's labels, which the loss shifts by one.
  torch::Tensor labels;
  int64_t examples = 0;  // examples (several per row when packed)
  int64_t tokens = 0;   // non-padding tokens
  int64_t targets = 0;  // causal LM: target tokens (the loss's terms); classification: examples
  // Some row holds more than one example: the model must keep attention and positions inside
  // each (TrainableModelImpl::ForwardPacked). Known here, where the rows are laid out, so that
  // the forward never reads the mask back from the device to find out.
  bool packed = false;
};

// The label of a position that is not a target (PyTorch's and Hugging Face's ignore_index).
inline constexpr int64_t kIgnoredLabel = -100;

MicroBatch CollateMicroBatch(const TokenizedSplit& split, const std::vector<std::size_t>& indices,
                             const torch::Device& device);

// Packed: row r holds the next examples_per_row[r] of `indices` end to end. An example's first
// token is never a target (target_mask), so no label asks a token to predict the next example.
MicroBatch CollatePackedMicroBatch(const TokenizedSplit& split,
                                   const std::vector<std::size_t>& indices,
                                   const std::vector<std::size_t>& examples_per_row,
                                   const torch::Device& device);

// Micro-batch `m` of `window`, packed or not.
MicroBatch CollateWindowMicroBatch(const TokenizedSplit& split, const Window& window,
                                   std::size_t m, const torch::Device& device);

// Rows [begin, end) of `batch` (a CPU batch), without the trailing columns that are padding in
// every one of them; the counts are the slice's own.
MicroBatch SliceRows(const MicroBatch& batch, int64_t begin, int64_t end);

// The batch's tensors on `device` (no copy when they are there already).
MicroBatch ToDevice(MicroBatch batch, const torch::Device& device);

}  // namespace ft::train
