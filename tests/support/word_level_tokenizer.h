// A small word-level tokenizer.json (Hugging Face tokenizers format) for tests of
// JobSpec.tokenizer: 20 ids, whitespace and punctuation split, unknown words -> [UNK] (id 0).
// Its ids differ from ft's byte-level ones for the same text, which is what those tests check.
#pragma once

#include <string>

namespace ft::testing {

inline std::string WordLevelTokenizerJson() {
  return R"({
  "version": "1.0",
  "truncation": null,
  "padding": null,
  "added_tokens": [{"id": 0, "content": "[UNK]", "single_word": false, "lstrip": false,
                    "rstrip": false, "normalized": false, "special": true}],
  "normalizer": {"type": "Lowercase"},
  "pre_tokenizer": {"type": "Whitespace"},
  "post_processor": null,
  "decoder": null,
  "model": {"type": "WordLevel", "unk_token": "[UNK]", "vocab": {
    "[UNK]": 0, "a": 1, "film": 2, ",": 3, "great": 4, "lovely": 5, "good": 6, "superb": 7,
    "awful": 8, "boring": 9, "bad": 10, "poor": 11, "hello": 12, "world": 13, "the": 14,
    "is": 15, ".": 16, "and": 17, "not": 18, "very": 19}}
})";
}

}  // namespace ft::testing
