// The tokenizer.json components on small inputs whose expected results follow the Rust
// `tokenizers` library (its own tests and its documented semantics), and the error messages.
#include "common/tokenize/tokenizer.h"
#include "tests/support/prerequisite.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "common/tokenize/byte_level.h"
#include "common/tokenize/byte_tokenizer_json.h"
#include "common/tokenize/normalizer.h"
#include "common/tokenize/pre_tokenizer.h"

namespace ft::tokenize {
namespace {

using Strings = std::vector<std::string>;

Strings Gpt2Pieces(const std::string& text) {
  Strings pieces;
  for (const ByteRange& range : Gpt2Split(text)) {
    pieces.push_back(text.substr(range.first, range.second - range.first));
  }
  return pieces;
}

TEST(Gpt2SplitTest, FollowsTheRegex) {
  EXPECT_EQ(Gpt2Pieces("Hello world"), (Strings{"Hello", " world"}));
  EXPECT_EQ(Gpt2Pieces("Hello  world"), (Strings{"Hello", " ", " world"}));
  EXPECT_EQ(Gpt2Pieces("x   "), (Strings{"x", "   "}));
  EXPECT_EQ(Gpt2Pieces("a\n\nb"), (Strings{"a", "\n", "\n", "b"}));
  EXPECT_EQ(Gpt2Pieces("a \n b"), (Strings{"a", " \n", " b"}));
  EXPECT_EQ(Gpt2Pieces("I'm 'S"), (Strings{"I", "'m", " '", "S"}));
  EXPECT_EQ(Gpt2Pieces("they'll've"), (Strings{"they", "'ll", "'ve"}));
  EXPECT_EQ(Gpt2Pieces("abc123 !!?x"), (Strings{"abc", "123", " !!?", "x"}));
  EXPECT_EQ(Gpt2Pieces("caf\xC3\xA9 \xE6\x97\xA5\xE6\x9C\xAC 42\xC2\xBD"),
            (Strings{"caf\xC3\xA9", " \xE6\x97\xA5\xE6\x9C\xAC", " 42\xC2\xBD"}));
  EXPECT_EQ(Gpt2Pieces(" "), (Strings{" "}));
  EXPECT_EQ(Gpt2Pieces(""), (Strings{}));
}

TEST(ByteLevelTest, MapsBytesToPrintableCharacters) {
  EXPECT_EQ(ByteLevelChar('a'), "a");
  EXPECT_EQ(ByteLevelChar(' '), "\xC4\xA0");   // U+0120 "Ġ"
  EXPECT_EQ(ByteLevelChar('\n'), "\xC4\x8A");  // U+010A "Ċ"
  EXPECT_EQ(ByteLevelChar(0xAD), "\xC5\x83");  // U+0143, the last of the remapped range
}

Strings PreTokenize(const std::string& json, const std::string& text) {
  const nlohmann::json parsed = nlohmann::json::parse(json);
  const auto pre_tokenizer = PreTokenizerFromJson(JsonView(parsed, "t.json", "pre_tokenizer"));
  std::vector<Piece> pieces{{text, true}};
  pre_tokenizer->PreTokenize(pieces);
  Strings out;
  for (const Piece& piece : pieces) out.push_back(piece.text);
  return out;
}

std::string Split(const std::string& pattern, const std::string& behavior, bool invert = false) {
  return R"({"type": "Split", "pattern": )" + pattern + R"(, "behavior": ")" + behavior +
         R"(", "invert": )" + (invert ? "true" : "false") + "}";
}

TEST(PreTokenizerTest, SplitBehaviors) {
  const std::string space = R"({"Regex": "\\s+"})";
  EXPECT_EQ(PreTokenize(Split(space, "Removed"), "a  b c"), (Strings{"a", "b", "c"}));
  EXPECT_EQ(PreTokenize(Split(space, "Isolated"), "a  b c"), (Strings{"a", "  ", "b", " ", "c"}));
  EXPECT_EQ(PreTokenize(Split(space, "MergedWithPrevious"), "a  b c"), (Strings{"a  ", "b ", "c"}));
  EXPECT_EQ(PreTokenize(Split(space, "MergedWithNext"), "a  b c"), (Strings{"a", "  b", " c"}));
  EXPECT_EQ(PreTokenize(Split(R"({"String": "-"})", "Contiguous"), "a--b-"),
            (Strings{"a", "--", "b", "-"}));
  EXPECT_EQ(PreTokenize(Split(space, "Removed", true), "a  b c"), (Strings{"  ", " "}));
  // \s is Unicode's White_Space, as in Oniguruma: \x0B and U+0085 too.
  EXPECT_EQ(PreTokenize(Split(space, "Removed"),
                        "a\x0B"
                        "b\xC2\x85"
                        "c"),
            (Strings{"a", "b", "c"}));
  EXPECT_EQ(PreTokenize(Split(R"({"Regex": "[^\\s]+"})", "Removed", true),
                        "a\x0B"
                        "b"),
            (Strings{"a", "b"}));
  // Look-ahead, as in GPT-2's and Llama-3's patterns.
  EXPECT_EQ(PreTokenize(Split(R"({"Regex": "\\s+(?!\\S)|\\s+"})", "Isolated"), "a  b"),
            (Strings{"a", " ", " ", "b"}));
  EXPECT_EQ(PreTokenize(Split(R"({"Regex": "(?i:'s|'t)|\\p{N}{1,3}"})", "Isolated"), "IT'S 12345"),
            (Strings{"IT", "'S", " ", "123", "45"}));
}

TEST(PreTokenizerTest, BertWhitespaceDigitsPunctuationMetaspace) {
  EXPECT_EQ(PreTokenize(R"({"type": "BertPreTokenizer"})", "Hey,  you!? $5"),
            (Strings{"Hey", ",", "you", "!", "?", "$", "5"}));
  EXPECT_EQ(PreTokenize(R"({"type": "Whitespace"})", "Hey, you_2!?"),
            (Strings{"Hey", ",", "you_2", "!?"}));
  EXPECT_EQ(PreTokenize(R"({"type": "WhitespaceSplit"})", " Hey,\tyou "), (Strings{"Hey,", "you"}));
  EXPECT_EQ(PreTokenize(R"({"type": "Digits", "individual_digits": true})", "a123"),
            (Strings{"a", "1", "2", "3"}));
  EXPECT_EQ(PreTokenize(R"({"type": "Digits", "individual_digits": false})", "a123b"),
            (Strings{"a", "123", "b"}));
  EXPECT_EQ(PreTokenize(R"({"type": "Punctuation"})", "Hey!!"), (Strings{"Hey", "!", "!"}));
  EXPECT_EQ(
      PreTokenize(
          R"({"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "first", "split": true})",
          "Hey  friend"),
      (Strings{"\xE2\x96\x81Hey", "\xE2\x96\x81",
               "\xE2\x96\x81"
               "friend"}));
  EXPECT_EQ(PreTokenize(R"({"type": "Sequence", "pretokenizers": [{"type": "WhitespaceSplit"},
                          {"type": "Digits", "individual_digits": true}]})",
                        "ab12 c"),
            (Strings{"ab", "1", "2", "c"}));
}

std::string Normalize(const std::string& json, std::string text) {
  const nlohmann::json parsed = nlohmann::json::parse(json);
  NormalizerFromJson(JsonView(parsed, "t.json", "normalizer"))->Normalize(text);
  return text;
}

TEST(NormalizerTest, Components) {
  // clean_text drops controls (\x07, \x0b), keeps \t \n \r as spaces, NBSP becomes a space;
  // accents are stripped because lowercase is on; CJK ideographs get spaces.
  EXPECT_EQ(
      Normalize(R"({"type": "BertNormalizer", "clean_text": true, "handle_chinese_chars": true,
                         "strip_accents": null, "lowercase": true})",
                "H\xC3\xA9llo\x07\x0b\tW\xC2\xA0\xE6\x97\xA5!"),
      "hello w  \xE6\x97\xA5 !");
  // Per character, as Rust's char::to_lowercase: a final capital sigma becomes plain sigma (not
  // JavaScript's final sigma), dotted capital I becomes i + combining dot.
  EXPECT_EQ(Normalize(R"({"type": "Lowercase"})", "\xC4\xB0I\xCE\xA3"), "i\xCC\x87i\xCF\x83");
  EXPECT_EQ(Normalize(R"({"type": "NFKC"})", "\xEF\xAC\x81"), "fi");
  EXPECT_EQ(
      Normalize(
          R"({"type": "Sequence", "normalizers": [{"type": "NFD"}, {"type": "StripAccents"}]})",
          "caf\xC3\xA9"),
      "cafe");
  EXPECT_EQ(Normalize(R"({"type": "Sequence", "normalizers": [
                         {"type": "Strip", "strip_left": true, "strip_right": true},
                         {"type": "Prepend", "prepend": "\u2581"},
                         {"type": "Replace", "pattern": {"String": " "}, "content": "\u2581"}]})",
                      "  a b \n"),
            "\xE2\x96\x81"
            "a\xE2\x96\x81"
            "b");
  EXPECT_EQ(
      Normalize(R"({"type": "Replace", "pattern": {"Regex": "\\d+"}, "content": "#"})", "a12b3"),
      "a#b#");
}

// Code points that the Rust library's Unicode tables do not classify (unassigned in the versions
// of the crates it uses, or assigned later) are ordinary characters there, as here: issue 19.
TEST(NormalizerTest, CodePointsTheRustTablesDoNotKnowStay) {
  const std::string bert = R"({"type": "BertNormalizer", "clean_text": true,
      "handle_chinese_chars": true, "strip_accents": null, "lowercase": true})";
  // U+20CD and U+05CD are unassigned: not C* for clean_text, not Mn for strip_accents.
  EXPECT_EQ(Normalize(bert, "the\xE2\x83\x8D"), "the\xE2\x83\x8D");
  EXPECT_EQ(Normalize(bert,
                      "ab\xD7\x8D"
                      "cd"),
            "ab\xD7\x8D"
            "cd");
  // U+0898 (Mn since Unicode 14) stays for strip_accents and StripAccents; U+0301 goes.
  EXPECT_EQ(Normalize(bert, "a\xE0\xA2\x98\xCC\x81"), "a\xE0\xA2\x98");
  EXPECT_EQ(Normalize(R"({"type": "StripAccents"})", "a\xE0\xA2\x98\xCC\x81"), "a\xE0\xA2\x98");
  // U+32FF (Unicode 12.1) has no compatibility decomposition for the Rust library; U+3300 has.
  EXPECT_EQ(Normalize(R"({"type": "NFKC"})", "\xE3\x8B\xBF"), "\xE3\x8B\xBF");
  EXPECT_EQ(Normalize(R"({"type": "NFKD"})", "\xEF\xAC\x81\xE3\x8B\xBF\xEF\xAC\x81"),
            "fi\xE3\x8B\xBF"
            "fi");
  // U+1C89 (Unicode 16) lowercases to U+1C8A, as Rust's char::to_lowercase does.
  EXPECT_EQ(Normalize(R"({"type": "Lowercase"})", "\xE1\xB2\x89"), "\xE1\xB2\x8A");
}

TEST(PreTokenizerTest, CodePointsTheRustTablesDoNotKnowAreNotPunctuation) {
  // U+061D (Po since Unicode 14) is no punctuation for the Rust library's Unicode 8.0 tables.
  EXPECT_EQ(PreTokenize(R"({"type": "BertPreTokenizer"})",
                        "a\xD8\x9D"
                        "b c"),
            (Strings{"a\xD8\x9D"
                     "b",
                     "c"}));
  EXPECT_EQ(PreTokenize(R"({"type": "Punctuation"})",
                        "a\xD8\x9D"
                        "b"),
            (Strings{"a\xD8\x9D"
                     "b"}));
  // Whitespace's \w has the joiners and not U+00B2; Oniguruma's \w the reverse.
  EXPECT_EQ(PreTokenize(R"({"type": "Whitespace"})",
                        "a\xE2\x80\x8D"
                        "b x\xC2\xB2"),
            (Strings{"a\xE2\x80\x8D"
                     "b",
                     "x", "\xC2\xB2"}));
  EXPECT_EQ(PreTokenize(Split(R"({"Regex": "\\w+"})", "Isolated"), "x\xC2\xB2\xE2\x80\x8D"),
            (Strings{"x\xC2\xB2", "\xE2\x80\x8D"}));
  // U+10D40 (a Garay digit, Unicode 16) is \p{N} and numeric in the Rust library.
  EXPECT_EQ(PreTokenize(R"({"type": "Digits", "individual_digits": true})", "a\xF0\x90\xB5\x80"),
            (Strings{"a", "\xF0\x90\xB5\x80"}));
  EXPECT_EQ(
      PreTokenize(Split(R"({"Regex": "\\p{N}+|[^\\s\\p{N}]+"})", "Isolated"), "a\xF0\x90\xB5\x80"),
      (Strings{"a", "\xF0\x90\xB5\x80"}));
}

// A small WordLevel tokenizer with added tokens, after the Rust library's added-vocabulary tests.
std::string AddedTokensJson(const std::string& added, const std::string& vocab) {
  return R"({"version": "1.0", "normalizer": {"type": "Lowercase"},
             "pre_tokenizer": {"type": "Whitespace"}, "post_processor": null,
             "added_tokens": [)" +
         added + R"(],
             "model": {"type": "WordLevel", "unk_token": "[UNK]", "vocab": {)" +
         vocab + "}}}";
}

std::string Added(int id, const std::string& content, bool special, const std::string& flags = "") {
  return R"({"id": )" + std::to_string(id) + R"(, "content": ")" + content + R"(", "special": )" +
         (special ? "true" : "false") + R"(, "normalized": )" + (special ? "false" : "true") +
         flags + "}";
}

TEST(AddedTokensTest, FlagsAsInTheRustLibrary) {
  const auto tokenizer = Tokenizer::FromJsonText(
      AddedTokensJson(Added(0, "my", false, R"(, "lstrip": true, "rstrip": true)") + "," +
                          Added(1, "name", false) + "," +
                          Added(2, "ony", false, R"(, "single_word": true)") + "," +
                          Added(3, "[CLS]", true) + "," + Added(4, "[SEP]", true),
                      R"("[UNK]": 12, "is": 10, "anthony": 11)"),
      "t.json");
  // " my " is one token (lstrip + rstrip, matched after lowercasing); "ony" is inside a word.
  EXPECT_EQ(tokenizer->Encode("[CLS] My name is Anthony [SEP]"),
            (std::vector<int64_t>{3, 0, 1, 10, 11, 4}));
  // Special tokens are matched on the raw text: "[cls]" is not "[CLS]".
  EXPECT_EQ(tokenizer->Encode("[cls] ony"), (std::vector<int64_t>{12, 12, 12, 2}));
}

TEST(AddedTokensTest, SingleWord) {
  const auto tokenizer =
      Tokenizer::FromJsonText(AddedTokensJson(Added(0, "<mask>", false, R"(, "single_word": true)"),
                                              R"("[UNK]": 12, "my": 20, "name": 21)"),
                              "t.json");
  // "<mask> My name <mask> A<mask> <mask>ony <mask>": the third and fourth are inside words.
  EXPECT_EQ(tokenizer->Encode("<mask> My name <mask> A<mask> <mask>ony <mask>"),
            (std::vector<int64_t>{0, 20, 21, 0, 12, 12, 12, 12, 12, 12, 12, 12, 0}));
}

std::string SharedTokenizer(const std::string& name) {
  const char* root = std::getenv("FT_SHARED_DATA");
  if (root == nullptr) return "";
  const std::filesystem::path path =
      std::filesystem::path(root) / "tokenizers" / name / "tokenizer.json";
  return std::filesystem::exists(path) ? path.string() : "";
}

TEST(TokenizerTest, BertTruncationKeepsClsAndSep) {
  const std::string path = SharedTokenizer("all-MiniLM-L6-v2");
  if (path.empty()) FT_SKIP_PREREQUISITE_MISSING() << "../shared/data/tokenizers absent";
  const auto tokenizer = Tokenizer::FromFile(path);
  const std::vector<int64_t> full = tokenizer->Encode("Hello, WORLD! Caf\xC3\xA9 \xE6\x97\xA5 x");
  const auto id = [&](const char* token) { return *tokenizer->TokenToId(token); };
  EXPECT_EQ(full, (std::vector<int64_t>{101, id("hello"), id(","), id("world"), id("!"), id("cafe"),
                                        id("\xE6\x97\xA5"), id("x"), 102}));
  const std::vector<int64_t> cut = tokenizer->Encode("Hello, WORLD! Caf\xC3\xA9", 4);
  EXPECT_EQ(cut, (std::vector<int64_t>{101, id("hello"), id(","), 102}));
  EXPECT_EQ(tokenizer->SpecialTokenCount(), 2u);
  EXPECT_EQ(tokenizer->VocabSize(), 30522);
}

TEST(TokenizerTest, Gpt2TruncationKeepsTheHead) {
  const std::string path = SharedTokenizer("gpt2");
  if (path.empty()) FT_SKIP_PREREQUISITE_MISSING() << "../shared/data/tokenizers absent";
  const auto tokenizer = Tokenizer::FromFile(path);
  // Known GPT-2 ids; <|endoftext|> is an added token matched in the text.
  EXPECT_EQ(tokenizer->Encode("Hello world<|endoftext|>"),
            (std::vector<int64_t>{15496, 995, 50256}));
  const std::vector<int64_t> full = tokenizer->Encode("The quick brown fox jumps over it.");
  ASSERT_GT(full.size(), 3u);
  EXPECT_EQ(tokenizer->Encode("The quick brown fox jumps over it.", 3),
            std::vector<int64_t>(full.begin(), full.begin() + 3));
  EXPECT_EQ(tokenizer->VocabSize(), 50257);
}

TEST(ByteTokenizerJsonTest, ReproducesTheByteTokenizer) {
  const auto tokenizer = Tokenizer::FromJsonText(ByteTokenizerJson(), "bytes.json");
  const std::string text = "h\xC3\xA9llo <s>\n\x01\xFF";
  std::vector<int64_t> expected;
  for (const char c : text)
    expected.push_back(kByteTokenizerOffset + static_cast<unsigned char>(c));
  EXPECT_EQ(tokenizer->Encode(text), expected);
  EXPECT_EQ(tokenizer->Encode(text, 3),
            std::vector<int64_t>(expected.begin(), expected.begin() + 3));
  EXPECT_EQ(tokenizer->Encode(""), std::vector<int64_t>{});
  EXPECT_EQ(tokenizer->VocabSize(), 260);
  EXPECT_EQ(tokenizer->TokenToId("<pad>"), 3);
}

void ExpectError(const std::string& json, const std::string& message) {
  try {
    Tokenizer::FromJsonText(json, "tokenizer.json");
    ADD_FAILURE() << "no error for " << json;
  } catch (const TokenizerError& error) {
    EXPECT_NE(std::string(error.what()).find(message), std::string::npos) << error.what();
  }
}

TEST(TokenizerErrorsTest, NameFileAndPlace) {
  const std::string model =
      R"("model": {"type": "WordLevel", "unk_token": "u", "vocab": {"u": 0}})";
  ExpectError(R"({"pre_tokenizer": {"type": "Sequence", "pretokenizers": [{"type": "Whitespace"},
                  {"type": "Foo"}]}, )" +
                  model + "}",
              R"(tokenizer.json: pre_tokenizer.pretokenizers[1].type "Foo" is not supported)");
  ExpectError(R"({"normalizer": {"type": "Precompiled"}, )" + model + "}",
              R"(tokenizer.json: normalizer.type "Precompiled" is not supported)");
  ExpectError(R"({"model": {"type": "Unigram", "vocab": []}})",
              R"(tokenizer.json: model.type "Unigram" is not supported)");
  ExpectError(
      R"({"post_processor": {"type": "TemplateProcessing", "single": [{"Sequence": {"id": "A"}},
                  {"SpecialToken": {"id": "[SEP]"}}], "special_tokens": {}}, )" +
          model + "}",
      R"(post_processor.single[1] names "[SEP]", which special_tokens does not define)");
  ExpectError(
      R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": ["a b"]}})",
      R"(tokenizer.json: model.merges[0] merges "a" and "b", but "b" is not in the vocabulary)");
  ExpectError(
      R"({"pre_tokenizer": {"type": "Split", "pattern": {"Regex": "(a"}, "behavior": "Isolated"}, )" +
          model + "}",
      "tokenizer.json: pre_tokenizer.pattern.Regex is not a regular expression");
  ExpectError("{\"model\": {\n  \"type\": \"BPE\",\n  \"vocab\": {\"a\" 0}}}",
              "tokenizer.json: malformed JSON (byte 46)");
  ExpectError("{\"model\": {\n  \"type\": \"BPE\",\n  \"vocab\": {\"a\" 0}}}", "line 3");
  ExpectError("{}", "tokenizer.json: model is missing");
  // Found by scripts/fuzz.sh (tokenizer): a number past double's range is nlohmann's
  // out_of_range, not a parse_error; it escaped the loader (std::terminate in the fuzzer).
  ExpectError("{\"model\": {\"type\": \"WordLevel\", \"dropout\": 1e999}}",
              "tokenizer.json: malformed JSON: ");
  try {
    Tokenizer::FromFile("/nonexistent/tokenizer.json");
    ADD_FAILURE();
  } catch (const TokenizerError& error) {
    EXPECT_STREQ(error.what(), "/nonexistent/tokenizer.json: cannot be read");
  }
}

}  // namespace
}  // namespace ft::tokenize
