// The `model` of tokenizer.json: BPE (byte-level or not: merges with ranks, ignore_merges,
// unk_token with fuse_unk, byte_fallback, continuing_subword_prefix, end_of_word_suffix),
// WordPiece and WordLevel, with the Rust library's semantics (no BPE dropout).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/tokenize/json_view.h"

namespace ft::tokenize {

class Model {
 public:
  virtual ~Model() = default;
  // Appends the ids of one pre-tokenized word. Thread-safe.
  virtual void Tokenize(std::string_view word, std::vector<int64_t>& ids) const = 0;
  virtual std::optional<int64_t> TokenToId(std::string_view token) const = 0;
  // The vocabulary's token for `id`; "" when it has none.
  virtual const std::string& IdToToken(int64_t id) const = 0;
  // 1 + the largest id of the vocabulary.
  virtual int64_t VocabSize() const = 0;
};

std::unique_ptr<Model> ModelFromJson(const JsonView& node);

// Each model's own constructor (ModelFromJson dispatches on "type").
std::unique_ptr<Model> BpeModelFromJson(const JsonView& node);
std::unique_ptr<Model> WordPieceModelFromJson(const JsonView& node);
std::unique_ptr<Model> WordLevelModelFromJson(const JsonView& node);

}  // namespace ft::tokenize
