// ft's byte-level fallback tokenizer (common/tokenize/byte_tokenizer.h: ids 0..3 are <unk> <s>
// </s> <pad>, byte b is id 4 + b, no special tokens added) written as a Hugging Face
// tokenizer.json, so that a model folder trained with it is self-contained: a ByteLevel
// pre-tokenizer without regex maps every byte to its printable character and a BPE model without
// merges maps each such character to 4 + b. The four special tokens are in the vocabulary but
// not in added_tokens, so that text spelling "<s>" stays bytes, as in ByteTokenizer.
#pragma once

#include <cstdint>
#include <string>

namespace ft::tokenize {

inline constexpr int64_t kByteTokenizerOffset = 4;

std::string ByteTokenizerJson();

// tokenizer_config.json for transformers' PreTrainedTokenizerFast beside that tokenizer.json.
std::string ByteTokenizerConfigJson(int64_t model_max_length);

}  // namespace ft::tokenize
