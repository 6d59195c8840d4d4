// How often a causal LM's greedy answer is exactly the reference: for each prompt/completion
// example of a split, the prompt's ids greedily completed (at most as many tokens as the
// reference completion, which ends with its EOS unless truncation cut it) and compared token for
// token. The classifier's accuracy, for a model that answers in words: a job trained on questions
// and their answers reports how many test answers it gets right. Include only from Torch
// translation units.
#pragma once

#include <cstdint>
#include <optional>

#include "worker/data/job_data.h"
#include "worker/models/causal_lm.h"

namespace ft::generate {

struct CompletionMatch {
  int64_t examples = 0;  // prompt/completion examples compared (text and chat rows have none)
  int64_t matched = 0;   // whose greedy completion equals the reference
};

// Over the first max_examples (0: all) examples of `split`. Evaluation mode and no gradients
// while it runs; the model's train/eval mode is restored.
CompletionMatch GreedyCompletionMatch(models::CausalLmImpl& model,
                                      const train::TokenizedSplit& split,
                                      std::optional<int64_t> eos_id, int64_t max_examples = 0);

}  // namespace ft::generate
