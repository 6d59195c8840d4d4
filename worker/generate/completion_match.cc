#include "worker/generate/completion_match.h"

#include <algorithm>
#include <vector>

#include "worker/eval/eval_mode_scope.h"
#include "worker/generate/greedy_generate.h"

namespace ft::generate {

CompletionMatch GreedyCompletionMatch(models::CausalLmImpl& model,
                                      const train::TokenizedSplit& split,
                                      std::optional<int64_t> eos_id, int64_t max_examples) {
  CompletionMatch match;
  const train::EvalModeScope eval_mode(model);
  std::size_t count = std::min(split.prompt_tokens.size(), split.size());
  if (max_examples > 0) count = std::min(count, static_cast<std::size_t>(max_examples));
  for (std::size_t i = 0; i < count; ++i) {
    const auto prompt_tokens = static_cast<std::size_t>(split.prompt_tokens[i]);
    const std::vector<int64_t> ids = split.input_ids[i].ToVector();
    if (prompt_tokens == 0 || prompt_tokens >= ids.size()) continue;
    const std::vector<int64_t> prompt(ids.begin(), ids.begin() + prompt_tokens);
    const std::vector<int64_t> reference(ids.begin() + prompt_tokens, ids.end());
    const std::vector<int64_t> answer = GreedyGenerate(
        model, prompt, static_cast<int64_t>(reference.size()), eos_id);
    ++match.examples;
    if (answer == reference) ++match.matched;
  }
  return match;
}

}  // namespace ft::generate
