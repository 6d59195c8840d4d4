// The tokenizer files of a finished job's model folder, so that it is self-contained: the job's
// tokenizer.json (JobSpec.tokenizer's, else the model folder's; with its tokenizer_config.json
// and special_tokens_map.json when there) copied, or, for the byte-level tokenizer, a tokenizer.json that reproduces it and a
// tokenizer_config.json for transformers' PreTrainedTokenizerFast. Standard library only.
#pragma once

#include <cstdint>
#include <string>

namespace ft::train {

// `tokenizer`: JobSpec.tokenizer ("" for the model folder's).
void WriteTokenizerFiles(const std::string& model, const std::string& tokenizer,
                         int64_t max_seq_length, const std::string& output_dir);

}  // namespace ft::train
