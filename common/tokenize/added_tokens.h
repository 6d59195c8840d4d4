// The added and special tokens of tokenizer.json (`added_tokens`), matched in the text before the
// model sees it, as the Rust library's AddedVocabulary does: leftmost-longest matching, first the
// tokens with normalized=false on the raw text, then those with normalized=true (their content
// normalized) on the normalized text; single_word, lstrip and rstrip as there.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/tokenize/json_view.h"
#include "common/tokenize/normalizer.h"

namespace ft::tokenize {

struct AddedToken {
  std::string content;
  int64_t id = 0;
  bool single_word = false;
  bool lstrip = false;
  bool rstrip = false;
  bool normalized = true;
  bool special = false;
};

// A stretch of text: an added token (id >= 0) or text for the model (id < 0).
struct Segment {
  std::string text;
  int64_t id = -1;
  bool at_start = false;
};

class AddedTokens {
 public:
  // `normalizer` (may be null) normalizes the content of normalized tokens.
  static AddedTokens FromJson(const JsonView& node, const Normalizer* normalizer);

  const std::vector<AddedToken>& tokens() const { return tokens_; }
  bool empty() const { return tokens_.empty(); }

  // Splits `text` at the tokens of one set (normalized or not), appending to `out`.
  void Split(std::string_view text, bool at_start, bool normalized_set,
             std::vector<Segment>& out) const;

 private:
  struct Candidate {
    std::string pattern;  // what is matched
    std::size_t token;    // index into tokens_
  };
  std::vector<AddedToken> tokens_;
  // Per set, per first byte: the candidates, longest first.
  std::vector<std::vector<Candidate>> by_first_byte_[2];
};

}  // namespace ft::tokenize
