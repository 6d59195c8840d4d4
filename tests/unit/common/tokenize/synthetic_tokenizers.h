// tokenizer.json documents for pipelines whose real files are not on this machine, built on the
// vocabularies of ../shared/data's tokenizers, for the parity tests against Hugging Face's
// libraries.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

namespace ft::tokenize {

using NamedTokenizerJson = std::pair<std::string, nlohmann::json>;

// The pre-tokenization of Llama-3, Qwen2 (with NFC) and BLOOM (Split with their regexes, then
// ByteLevel without regex; Llama-3 also ignore_merges and a template adding a start token), on
// GPT-2's vocabulary and merges.
std::vector<NamedTokenizerJson> Gpt2StylePipelines(const nlohmann::json& gpt2);

// The other components that consult character classes, on a WordPiece tokenizer (BERT's):
// NFKC/NFD + StripAccents + Lowercase + Strip with WhitespaceSplit, Punctuation and Digits; and a
// BertNormalizer keeping case and accents, with the Whitespace pre-tokenizer.
std::vector<NamedTokenizerJson> CharacterClassPipelines(const nlohmann::json& bert);

}  // namespace ft::tokenize
