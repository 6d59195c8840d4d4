// Normalizers of tokenizer.json: BertNormalizer, Lowercase, NFC/NFD/NFKC/NFKD, StripAccents,
// Replace, Prepend, Strip and Sequence, with the Rust library's semantics. Only the text is
// produced (no offsets: the job needs ids).
#pragma once

#include <memory>
#include <string>

#include "common/tokenize/json_view.h"

namespace ft::tokenize {

class Normalizer {
 public:
  virtual ~Normalizer() = default;
  virtual void Normalize(std::string& text) const = 0;
};

// nullptr for a JSON null; refuses an unknown type naming the file and path.
std::unique_ptr<Normalizer> NormalizerFromJson(const JsonView& node);

}  // namespace ft::tokenize
