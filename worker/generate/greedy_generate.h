// Greedy decoding of a causal LM through its key/value cache (worker/models/kv_cache.h): one
// forward over the prompt (the prefill), then one token per step attending to the cached keys
// and values, each token the argmax of its logits (ties to the lowest id, as torch.argmax and
// transformers' greedy search). Batch 1: one prompt at a time is what a CLI completion and a
// few validation samples need, and it needs no padding. Include only from Torch translation
// units.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "worker/models/causal_lm.h"

namespace ft::generate {

// The tokens that follow `prompt_ids` (not empty): at most max_new_tokens, ending at the first
// eos_id, which is included (as transformers' generate returns it). Stops early where the model
// has no position left (GPT-2's n_positions). Runs without recording gradients, on the model's
// device, in whatever train/eval mode the model is in. Throws c10::Error from LibTorch.
std::vector<int64_t> GreedyGenerate(models::CausalLmImpl& model,
                                    const std::vector<int64_t>& prompt_ids,
                                    int64_t max_new_tokens, std::optional<int64_t> eos_id);

}  // namespace ft::generate
