// libFuzzer target: the tokenizer.json loader (common/tokenize) on arbitrary text, then, when it
// loads, encoding of a few fixed texts (ASCII, accents, CJK, emoji, invalid UTF-8, special-token
// look-alikes) with and without a length cut. Loading may only throw TokenizerError; anything
// else, a crash, a hang or a sanitizer report is a bug. Built by scripts/fuzz.sh; the seeds in
// tests/fuzz/corpus/tokenizer are cut-down copies of real files (GPT-2 byte-level BPE, a BERT
// WordPiece) and a WordLevel file with most normalizers and pre-tokenizers.
#include <cstdint>
#include <string>
#include <string_view>

#include "common/tokenize/json_view.h"
#include "common/tokenize/tokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string_view kTexts[] = {
      "Hello world, hello!  12 345",
      "Caf\xc3\xa9 na\xc3\xafve \xe4\xbd\xa0\xe5\xa5\xbd \xf0\x9f\x98\x80 \t\n end",
      "[CLS] <s> </s> <|endoftext|> [MASK] ##ing",
      "\xff\xfe broken \xc3 utf8 \xe2\x82",
      "",
  };
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const auto tokenizer = ft::tokenize::Tokenizer::FromJsonText(text, "fuzz.json");
    tokenizer->VocabSize();
    tokenizer->SpecialTokenCount();
    tokenizer->TokenToId("hello");
    for (std::string_view sample : kTexts) {
      tokenizer->Encode(sample);
      tokenizer->Encode(sample, 3);
    }
  } catch (const ft::tokenize::TokenizerError&) {
  }
  return 0;
}
