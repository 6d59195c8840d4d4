// Byte-level tokenizer: the fallback for models that ship no tokenizer of their own, and the
// tokenizer of the scratch models. Ids 0..3 are BLOOM's special tokens, byte b is id 4 + b.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ft::tokenize {

class ByteTokenizer {
 public:
  static constexpr int64_t kUnkId = 0;
  static constexpr int64_t kBosId = 1;
  static constexpr int64_t kEosId = 2;
  static constexpr int64_t kPadId = 3;
  static constexpr int64_t kByteOffset = 4;
  static constexpr int64_t kVocabSize = kByteOffset + 256;

  // The UTF-8 bytes of `text` as ids, truncated to the first `max_length` bytes (the head is
  // kept; a multi-byte character may be cut). No special tokens are added.
  std::vector<int64_t> Encode(std::string_view text, int64_t max_length) const;

  // Inverse of Encode for byte ids; special ids are dropped.
  std::string Decode(const std::vector<int64_t>& ids) const;

  // A JSON description of the scheme, written as tokenizer_config.json beside the model.
  std::string ConfigJson(int64_t max_length) const;
};

}  // namespace ft::tokenize
