// A causal LM's end-of-sequence token as the model folder's config.json names it: the id a
// causal_lm job appends to every example (where transformers and TRL append it) and at which
// greedy generation stops. Standard library only: ftd checks it when a job is submitted, the
// worker uses it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "common/models/model_config.h"

namespace ft::models {

// BLOOM's configuration, else config.json's eos_token_id (the first one when it is a list, as
// Llama 3's); nullopt when there is none.
std::optional<int64_t> EosTokenId(const ModelConfig& config);

// Empty when the model has no EOS or it is an id of its vocabulary; otherwise why not, naming
// config.json and both fields (a config copied from another model can keep GPT-2's 50256 beside
// a 1,000-token vocabulary, which would fail the first training step as an index out of range).
std::string EosTokenProblem(const ModelConfig& config);

}  // namespace ft::models
