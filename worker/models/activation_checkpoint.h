// Activation checkpointing for transformer blocks: the forward keeps only a block's input, and
// the backward recomputes the block's forward to get the activations it needs. Trades one extra
// forward per block for the memory of its attention scores and MLP activations, so models that
// would not fit otherwise can train. LibTorch 1.13 has no helper for it; this is a custom autograd
// function. Include only from Torch translation units.
#pragma once

#include <torch/nn/modules/container/modulelist.h>
#include <torch/types.h>

#include <vector>

namespace ft::models {

// A block that can be checkpointed: its output depends on its parameters, `hidden` and
// `context` (tensors that need no gradient: masks, position tables) only.
class CheckpointableBlock {
 public:
  virtual ~CheckpointableBlock() = default;
  virtual torch::Tensor BlockForward(const torch::Tensor& hidden,
                                     const std::vector<torch::Tensor>& context) = 0;
};

// block.BlockForward(hidden, context) with the same value and gradients (also for the block's
// parameters), without keeping the block's activations. The recomputation runs under the autocast
// state and from the random-generator states the forward ran under (same dropout masks).
// `block` must outlive the backward pass.
torch::Tensor CheckpointedBlockForward(CheckpointableBlock& block, const torch::Tensor& hidden,
                                       const std::vector<torch::Tensor>& context);

// Runs `blocks` (each a CheckpointableBlock) in order, each checkpointed when `checkpoint` is set.
// With output_positions ([batch] int64) defined, the last block gets it as the last element of
// its context and returns only those positions, [batch, 1, hidden]: a classifier that reads one
// position per row skips most of the last block (keys and values still cover every position).
// That block is not checkpointed; computed for one row per sequence, its activations are small.
torch::Tensor RunBlocks(torch::nn::ModuleList& blocks, torch::Tensor hidden,
                        const std::vector<torch::Tensor>& context, bool checkpoint,
                        const torch::Tensor& output_positions);

}  // namespace ft::models
