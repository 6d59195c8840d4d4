// The keys and values of every attention layer for the tokens decoded so far, so that greedy
// decoding computes one new token's attention against them instead of rerunning the whole
// sequence. Rows are unpadded (every row of the batch has the same tokens cached). The training
// forward never builds one. Include only from Torch translation units.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <utility>
#include <vector>

namespace ft::models {

// One attention layer's cache: key and value [batch, kv_heads, cached tokens, head_dim], as the
// layer computed them (Llama's keys after the rotary embedding, before grouped-query repetition).
struct LayerKv {
  torch::Tensor key;
  torch::Tensor value;

  // Appends the new tokens' key and value [batch, kv_heads, new, head_dim]; returns all of them.
  std::pair<torch::Tensor, torch::Tensor> Append(const torch::Tensor& new_key,
                                                 const torch::Tensor& new_value);
};

class KvCache {
 public:
  // Tokens cached so far (0 before the prefill).
  int64_t length() const;
  LayerKv& layer(std::size_t index);

 private:
  std::vector<LayerKv> layers_;
};

// [1, 1, new, past + new] bool, true where query past + i may not look at key k: a later key, or
// (sliding_window > 0) one sliding_window or more positions back. AttentionBlockedMask's causal
// rule for queries that start at `past`.
torch::Tensor CachedBlockedMask(int64_t past, int64_t new_tokens, int64_t sliding_window,
                                const torch::Device& device);

}  // namespace ft::models
