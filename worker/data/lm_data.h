// The examples of a causal language-model job (task "causal_lm"): JSON Lines rows
// (common/data/lm_rows.h) tokenized into input ids and a target mask, as TRL's SFTTrainer
// prepares them for the same model:
//   prompt/completion: ids = tokenize(prompt + completion), the first len(tokenize(prompt)) of
//     them are prompt (not targets unless train_on_prompt); the EOS token is appended unless the
//     ids already end with it.
//   text: ids = tokenize(text) + EOS; every token is a target.
//   messages: the chat template's rendering, targets inside the assistant turns.
// Then the head is kept to max_seq_length tokens. A row left without a target token (its prompt
// fills max_seq_length) is skipped and counted in JobData::notes; a split with none left fails.
// With options.token_cache_dir the splits go through the token cache (cached_job_data.h), keyed
// by the tokenizer, max_seq_length, train_on_prompt, the EOS id and the chat template besides the
// files. Standard library only.
#pragma once

#include <cstdint>
#include <optional>

#include "common/models/model_config.h"
#include "worker/data/job_data.h"
#include "worker/train/train_job.h"

namespace ft::train {

// eos_token_id: the model's end-of-sequence id; nullopt: nothing is appended. Throws
// data::DataError naming the file and line for bad rows.
JobData LoadLmJobData(const TrainOptions& options, std::optional<int64_t> eos_token_id);

}  // namespace ft::train
