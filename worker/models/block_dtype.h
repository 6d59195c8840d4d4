// Frozen linear weights held in bfloat16 (LoRA's base_precision) take half the memory, but a model
// built in float32 and converted afterwards peaks at its float32 size: 136 GB of host memory for
// a 34B model. While a FrozenBlockDtype is alive on a thread, the families convert each
// transformer block's linear layers the moment the block is built, so only one block exists in
// float32 at a time. The weights are the ones a whole-model conversion afterwards gives: the same
// random draws (they are made in float32 as before), rounded by the same cast. Heads, embeddings
// and norms are outside this: the LoRA set-up decides them as before.
// Include only from Torch translation units.
#pragma once

#include <torch/nn/module.h>

namespace ft::models {

class FrozenBlockDtype {
 public:
  explicit FrozenBlockDtype(torch::ScalarType dtype);
  ~FrozenBlockDtype();
  FrozenBlockDtype(const FrozenBlockDtype&) = delete;
  FrozenBlockDtype& operator=(const FrozenBlockDtype&) = delete;

 private:
  torch::ScalarType previous_;
};

// Converts the block's linear layers to the dtype of the innermost live FrozenBlockDtype on this
// thread (none: leaves them float32).
void SettleBlock(torch::nn::Module& block);

// For the families' loops: `layers->push_back(Settled(Block(config)))`.
template <typename Holder>
Holder Settled(Holder block) {
  SettleBlock(*block);
  return block;
}

}  // namespace ft::models
