// What a causal_lm job writes as it trains: greedy completions of the first validation prompts,
// one log line each ("sample 1: PROMPT -> COMPLETION"), so that `ftctl watch` shows them beside
// the validation loss without a protocol change. Batch 1, a few samples, a few tokens: a small
// share of an evaluation. Include only from Torch translation units.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "worker/data/job_data.h"
#include "worker/data/job_tokenizer.h"
#include "worker/models/causal_lm.h"

namespace ft::generate {

struct SampleOptions {
  int64_t samples = 3;
  int64_t max_new_tokens = 32;
  // Characters shown: the end of the prompt (what the completion continues) and the start of
  // the completion; longer ones are cut at a character boundary and marked with "...".
  std::size_t prompt_chars = 80;
  std::size_t completion_chars = 160;
};

// One line per sample, from the first `samples` prompt/completion examples of `split` (its
// prompt_tokens; other rows are skipped): their prompt ids greedily completed (up to EOS), the
// prompt and completion decoded with `tokenizer`, control characters escaped. Evaluation mode
// and no gradients while it runs; the caller's train/eval mode is restored.
std::vector<std::string> ValidationSampleLines(models::CausalLmImpl& model,
                                               const train::TokenizedSplit& split,
                                               const train::JobTokenizer& tokenizer,
                                               std::optional<int64_t> eos_id,
                                               const SampleOptions& options = {});

// `text` for one log line: control characters as \n, \t or \xNN, and at most max_chars
// characters (UTF-8), cut at the head (keep_end) or the tail, "..." where it was cut.
std::string SampleText(const std::string& text, std::size_t max_chars, bool keep_end);

}  // namespace ft::generate
