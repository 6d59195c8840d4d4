// A Hugging Face tokenizer.json, loaded and applied in C++ with the Rust `tokenizers` library's
// semantics: added tokens, normalizer, pre-tokenizer, model (BPE, WordPiece, WordLevel) and
// post-processor. Truncation and padding in the file are ignored: the job decides them.
// Thread-safe once built.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/tokenize/added_tokens.h"
#include "common/tokenize/decoder.h"
#include "common/tokenize/json_view.h"
#include "common/tokenize/model.h"
#include "common/tokenize/normalizer.h"
#include "common/tokenize/post_processor.h"
#include "common/tokenize/pre_tokenizer.h"

namespace ft::tokenize {

class Tokenizer {
 public:
  // Throws TokenizerError naming the file (and the line/offset of malformed JSON, or the JSON
  // path of an unsupported or invalid component).
  static std::unique_ptr<Tokenizer> FromFile(const std::string& path);
  static std::unique_ptr<Tokenizer> FromJsonText(const std::string& text, const std::string& file);

  // The ids of `text` with the post-processor's special tokens (unless add_special_tokens is
  // false, as transformers' add_special_tokens=False). With max_length > 0 the text's own ids
  // are cut (head kept) so that, with the special tokens, at most max_length remain.
  std::vector<int64_t> Encode(std::string_view text, int64_t max_length = 0,
                              bool add_special_tokens = true) const;

  // The text of `ids`, as the Rust library's decode: each id's token (added tokens first, then
  // the model's vocabulary; unknown ids dropped), special added tokens left out when
  // skip_special_tokens, then the decoder (decoder.h). transformers' optional
  // clean_up_tokenization_spaces, applied in Python after this, is not.
  std::string Decode(const std::vector<int64_t>& ids, bool skip_special_tokens = true) const;

  // 1 + the largest id of the model's vocabulary and the added tokens.
  int64_t VocabSize() const;
  std::optional<int64_t> TokenToId(std::string_view token) const;
  std::size_t SpecialTokenCount() const;  // ids the post-processor adds to one sequence
  const std::vector<AddedToken>& added_tokens() const { return added_.tokens(); }

 private:
  Tokenizer() = default;
  void EncodeText(std::string_view text, bool at_start, std::vector<int64_t>& ids) const;

  std::unique_ptr<Normalizer> normalizer_;
  std::unique_ptr<PreTokenizer> pre_tokenizer_;
  std::unique_ptr<Model> model_;
  std::unique_ptr<PostProcessor> post_processor_;
  std::unique_ptr<Decoder> decoder_;
  AddedTokens added_;
  bool has_raw_tokens_ = false;         // added tokens with normalized=false
  bool has_normalized_tokens_ = false;  // with normalized=true
};

}  // namespace ft::tokenize
