// The tokenizer files of a finished job's model folder, so that it is self-contained: the model
// folder's tokenizer.json (with its tokenizer_config.json and special_tokens_map.json when there)
// copied, or, for the byte-level tokenizer, a tokenizer.json that reproduces it and a
// tokenizer_config.json for transformers' PreTrainedTokenizerFast. Standard library only.
#pragma once

#include <cstdint>
#include <string>

namespace ft::train {

void WriteTokenizerFiles(const std::string& model, int64_t max_seq_length,
                         const std::string& output_dir);

}  // namespace ft::train
