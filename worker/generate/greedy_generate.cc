#include "worker/generate/greedy_generate.h"

#include <torch/utils.h>

#include <algorithm>
#include <stdexcept>

#include "worker/models/kv_cache.h"

namespace ft::generate {

std::vector<int64_t> GreedyGenerate(models::CausalLmImpl& model,
                                    const std::vector<int64_t>& prompt_ids,
                                    int64_t max_new_tokens, std::optional<int64_t> eos_id) {
  if (prompt_ids.empty()) throw std::invalid_argument("GreedyGenerate: the prompt has no tokens");
  torch::NoGradGuard no_grad;
  const torch::Device device = model.parameters().front().device();
  const auto ids_options = torch::TensorOptions().dtype(torch::kInt64);
  int64_t room = max_new_tokens;
  if (const int64_t positions = model.max_positions(); positions > 0) {
    room = std::min(room, positions - static_cast<int64_t>(prompt_ids.size()));
  }
  std::vector<int64_t> generated;
  if (room <= 0) return generated;
  models::KvCache cache;
  torch::Tensor input =
      torch::tensor(prompt_ids, ids_options).view({1, -1}).to(device);
  while (static_cast<int64_t>(generated.size()) < room) {
    const torch::Tensor next = model.NextTokenLogits(input, cache).argmax(-1);  // [1]
    const int64_t token = next.item<int64_t>();
    generated.push_back(token);
    if (eos_id && token == *eos_id) break;
    input = next.view({1, 1});
  }
  return generated;
}

}  // namespace ft::generate
