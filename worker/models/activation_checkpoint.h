// Activation checkpointing for BLOOM blocks: the forward keeps only a block's input, and the
// backward recomputes the block's forward to get the activations it needs. Trades one extra
// forward per block for the memory of its attention scores and MLP activations, so models that
// would not fit otherwise can train. LibTorch 1.13 has no helper for it; this is a custom autograd
// function. Include only from Torch translation units.
#pragma once

#include <torch/types.h>

namespace ft::models {

class BloomBlockImpl;

// block.forward(hidden, alibi, masked) with the same value and gradients (also for the block's
// parameters), without keeping the block's activations. The recomputation runs under the autocast
// state the forward ran under. `block` must outlive the backward pass.
torch::Tensor CheckpointedBlockForward(BloomBlockImpl& block, const torch::Tensor& hidden,
                                       const torch::Tensor& alibi, const torch::Tensor& masked);

}  // namespace ft::models
