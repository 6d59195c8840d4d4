// The tokenizer a job uses: the tokenizer.json of its model folder when the model is a local
// Hugging Face folder that has one (common/tokenize), else ft's byte-level tokenizer
// (common/tokenize/byte_tokenizer.h: scratch models, folders without tokenizer.json). Standard
// library only.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace ft::tokenize {
class Tokenizer;
}

namespace ft::train {

// <model>/tokenizer.json when `model` is a folder (not "scratch:...") that has one, else "".
std::string TokenizerFileFor(const std::string& model);

// The tokenizer.json a job uses: `tokenizer` (JobSpec.tokenizer: a tokenizer.json file, or a
// folder holding one) when set, else TokenizerFileFor(model); "" for the byte-level tokenizer.
std::string TokenizerFileFor(const std::string& model, const std::string& tokenizer);

class JobTokenizer {
 public:
  // Picks the tokenizer for `model` without parsing it yet (a token-cache hit never needs to):
  // `spec_tokenizer` (JobSpec.tokenizer) when set, else the model folder's.
  static JobTokenizer ForModel(const std::string& model, const std::string& spec_tokenizer = "");

  // Parses the tokenizer.json (a no-op for the byte-level one) and checks that its ids fit the
  // model folder's config.json vocab_size. Throws tokenize::TokenizerError naming the file and the
  // JSON path of what cannot be used, std::runtime_error for a vocabulary that does not fit.
  void Load();

  // One example's ids: at most max_length, the tokenizer's special tokens kept ([CLS] ... [SEP]
  // stays [CLS] ... [SEP]), head kept; never empty (an empty result becomes the byte-level
  // <unk>, or the tokenizer's first special token). Load() first.
  // add_special_tokens false: without the post-processor's tokens (text rendered by a chat
  // template carries its own), and an empty text gives no ids.
  std::vector<int64_t> Encode(std::string_view text, int64_t max_length,
                              bool add_special_tokens = true) const;

  // The text of `ids` without special tokens (the byte-level tokenizer's ids 0..3, a
  // tokenizer.json's special added tokens, and the bos/eos/unk/pad tokens that
  // tokenizer_config.json names, which transformers registers as special on loading), as
  // transformers' decode(skip_special_tokens=True) without clean_up_tokenization_spaces.
  // Load() first.
  std::string Decode(const std::vector<int64_t>& ids) const;

  // Names the tokenizer and its rules in token-cache keys; for a tokenizer.json it includes the
  // file's identity (path, size, mtime, content hash). Throws when the file cannot be read.
  std::string CacheId() const;

  const std::string& file() const { return file_; }  // "" for the byte-level tokenizer

 private:
  std::string file_;
  std::string model_folder_;  // whose config.json bounds the ids; "" when not a folder
  std::shared_ptr<const tokenize::Tokenizer> tokenizer_;
  int64_t empty_id_ = 0;
  std::vector<int64_t> config_special_ids_;  // tokenizer_config.json's, for Decode
};

}  // namespace ft::train
