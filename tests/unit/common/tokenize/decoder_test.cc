// Tokenizer::Decode with each decoder of tokenizer.json, on small vocabularies whose expected
// text follows the Rust `tokenizers` library's decode (its own tests and the decoders of real
// files: GPT-2's ByteLevel, Llama 2's Replace/ByteFallback/Fuse/Strip sequence, Metaspace,
// WordPiece), and ft's byte-level tokenizer.json.
#include "common/tokenize/decoder.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/tokenize/byte_tokenizer_json.h"
#include "common/tokenize/tokenizer.h"

namespace ft::tokenize {
namespace {

// A tokenizer.json with a WordLevel vocabulary of `tokens` (ids 0..n-1) and `decoder`.
std::unique_ptr<Tokenizer> WithDecoder(const std::vector<std::string>& tokens,
                                       const std::string& decoder,
                                       const std::string& added_tokens = "[]") {
  nlohmann::json vocab = nlohmann::json::object();
  for (std::size_t i = 0; i < tokens.size(); ++i) vocab[tokens[i]] = i;
  const std::string json = R"({"added_tokens": )" + added_tokens + R"(, "decoder": )" + decoder +
                           R"(, "model": {"type": "WordLevel", "unk_token": ")" + tokens[0] +
                           R"(", "vocab": )" + vocab.dump() + "}}";
  return Tokenizer::FromJsonText(json, "tokenizer.json");
}

TEST(DecoderTest, ByteTokenizerJsonGivesTheTextBack) {
  const auto tokenizer = Tokenizer::FromJsonText(ByteTokenizerJson(), "bytes.json");
  for (const std::string text :
       {"Hello, world!", "tab\tnew\nline", "caf\xC3\xA9 \xE6\x97\xA5\xE6\x9C\xAC \xF0\x9F\x99\x82",
        " leading and trailing "}) {
    EXPECT_EQ(tokenizer->Decode(tokenizer->Encode(text)), text);
  }
  // A character cut after its first byte (generation stopped there) is U+FFFD, not a crash.
  std::vector<int64_t> ids = tokenizer->Encode("a\xC3\xA9");
  ids.pop_back();
  EXPECT_EQ(tokenizer->Decode(ids), "a\xEF\xBF\xBD");
}

TEST(DecoderTest, Llama2SequenceReplacesFallsBackToBytesFusesAndStrips) {
  const auto tokenizer = WithDecoder(
      {"<unk>", "\xE2\x96\x81Hello", "\xE2\x96\x81wor", "ld", "<0xE2>", "<0x82>", "<0xAC>", "<0xFF>"},
      R"({"type": "Sequence", "decoders": [
           {"type": "Replace", "pattern": {"String": "\u2581"}, "content": " "},
           {"type": "ByteFallback"}, {"type": "Fuse"},
           {"type": "Strip", "content": " ", "start": 1, "stop": 0}]})");
  EXPECT_EQ(tokenizer->Decode({1, 2, 3, 4, 5, 6}), "Hello world\xE2\x82\xAC");  // "Hello world€"
  // Bytes that are no UTF-8: one U+FFFD each, as the Rust library.
  EXPECT_EQ(tokenizer->Decode({2, 3, 7, 4}), "world\xEF\xBF\xBD\xEF\xBF\xBD");
}

TEST(DecoderTest, MetaspaceDropsTheFirstPrependedSpace) {
  const std::vector<std::string> vocab = {"<unk>", "\xE2\x96\x81Hello", "\xE2\x96\x81world", "!"};
  EXPECT_EQ(WithDecoder(vocab, R"({"type": "Metaspace", "replacement": "\u2581",
                                   "prepend_scheme": "always", "split": true})")
                ->Decode({1, 2, 3}),
            "Hello world!");
  EXPECT_EQ(WithDecoder(vocab, R"({"type": "Metaspace", "replacement": "\u2581",
                                   "prepend_scheme": "never"})")
                ->Decode({1, 2, 3}),
            " Hello world!");
}

TEST(DecoderTest, WordPieceJoinsContinuationsAndCleansUp) {
  const auto tokenizer = WithDecoder({"[UNK]", "hello", "##s", ",", "world", "don", "'", "t", "."},
                                     R"({"type": "WordPiece", "prefix": "##", "cleanup": true})");
  EXPECT_EQ(tokenizer->Decode({1, 2, 3, 4, 8}), "hellos, world.");
}

TEST(DecoderTest, SkipsSpecialAddedTokensKeepsOthers) {
  const auto tokenizer = WithDecoder(
      {"<unk>", "a", "b"}, R"({"type": "Fuse"})",
      R"([{"id": 3, "content": "</s>", "special": true},
          {"id": 4, "content": "<tool>", "special": false}])");
  EXPECT_EQ(tokenizer->Decode({1, 4, 2, 3}), "a<tool>b");
  EXPECT_EQ(tokenizer->Decode({1, 4, 2, 3}, /*skip_special_tokens=*/false), "a<tool>b</s>");
  EXPECT_EQ(tokenizer->Decode({1, 99, 2}), "ab");  // an id nobody knows is dropped
}

TEST(DecoderTest, NoDecoderJoinsWithSpacesAndUnknownTypesAreRefused) {
  const auto tokenizer = WithDecoder({"<unk>", "a", "b"}, "null");
  EXPECT_EQ(tokenizer->Decode({1, 2}), "a b");
  try {
    WithDecoder({"<unk>"}, R"({"type": "CTC"})");
    FAIL() << "CTC accepted";
  } catch (const TokenizerError& error) {
    EXPECT_NE(std::string(error.what()).find("tokenizer.json: decoder.type \"CTC\" is not supported"),
              std::string::npos)
        << error.what();
  }
}

}  // namespace
}  // namespace ft::tokenize
