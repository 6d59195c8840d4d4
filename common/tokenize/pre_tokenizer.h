// Pre-tokenizers of tokenizer.json: ByteLevel, Split, BertPreTokenizer, Whitespace,
// WhitespaceSplit, Punctuation, Digits, Metaspace and Sequence, with the Rust library's
// semantics. They cut a piece of normalized text into the words the model sees.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/tokenize/json_view.h"

namespace ft::tokenize {

struct Piece {
  std::string text;
  bool at_start = false;  // begins at offset 0 of the input (Metaspace's prepend_scheme "first")
};

class PreTokenizer {
 public:
  virtual ~PreTokenizer() = default;
  // Replaces `pieces` by their splits (empty ones dropped).
  virtual void PreTokenize(std::vector<Piece>& pieces) const = 0;
};

// nullptr for a JSON null; refuses an unknown type naming the file and path.
std::unique_ptr<PreTokenizer> PreTokenizerFromJson(const JsonView& node);

}  // namespace ft::tokenize
