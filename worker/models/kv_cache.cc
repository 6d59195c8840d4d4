#include "worker/models/kv_cache.h"

namespace ft::models {

std::pair<torch::Tensor, torch::Tensor> LayerKv::Append(const torch::Tensor& new_key,
                                                        const torch::Tensor& new_value) {
  key = key.defined() ? torch::cat({key, new_key}, 2) : new_key;
  value = value.defined() ? torch::cat({value, new_value}, 2) : new_value;
  return {key, value};
}

int64_t KvCache::length() const {
  if (layers_.empty() || !layers_.front().key.defined()) return 0;
  return layers_.front().key.size(2);
}

LayerKv& KvCache::layer(std::size_t index) {
  if (index >= layers_.size()) layers_.resize(index + 1);
  return layers_[index];
}

torch::Tensor CachedBlockedMask(int64_t past, int64_t new_tokens, int64_t sliding_window,
                                const torch::Device& device) {
  const auto options = torch::TensorOptions().dtype(torch::kInt64).device(device);
  const torch::Tensor queries = torch::arange(past, past + new_tokens, options);
  const torch::Tensor keys = torch::arange(past + new_tokens, options);
  const torch::Tensor distance = queries.view({new_tokens, 1}) - keys.view({1, -1});  // q - k
  torch::Tensor blocked = distance < 0;
  if (sliding_window > 0) blocked = blocked | (distance >= sliding_window);
  return blocked.view({1, 1, new_tokens, past + new_tokens});
}

}  // namespace ft::models
