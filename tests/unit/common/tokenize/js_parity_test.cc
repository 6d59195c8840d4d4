// Our ids equal those of Hugging Face's JavaScript tokenizers (@huggingface/tokenizers from npm,
// run offline by node on the same tokenizer.json) on 10,000+ real texts of ../shared/data:
// every SMS (control characters), SST-2 dev, TREC test, and the heads of rt-polarity, AG News
// (HTML entities) and IMDB test (<br /> tags), plus edge cases; for GPT-2 and all-MiniLM-L6-v2,
// and on every fifth text for the tokenizer.json of our byte-level fallback and for Llama-3-,
// Qwen2- and BLOOM-style pipelines.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/support/prerequisite.h"
#include "common/data/dataset.h"
#include "tests/unit/common/tokenize/synthetic_tokenizers.h"
#include "common/tokenize/byte_tokenizer_json.h"
#include "common/tokenize/tokenizer.h"

namespace ft::tokenize {
namespace {

std::filesystem::path SharedData() {
  const char* root = std::getenv("FT_SHARED_DATA");
  return root == nullptr ? std::filesystem::path() : std::filesystem::path(root);
}

std::vector<std::string> Texts(const std::string& relative, const std::string& column,
                               std::size_t limit) {
  data::DatasetSource source;
  source.path = (SharedData() / relative).string();
  source.text_column = column;
  source.label_column = "label";
  std::vector<std::string> texts;
  for (data::RawExample& example : data::ReadExamples(source)) {
    if (texts.size() == limit) break;
    texts.push_back(std::move(example.text));
  }
  return texts;
}

class JsParityTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!std::filesystem::is_directory(SharedData() / "tokenizers")) return;
    struct File {
      const char* path;
      const char* column;
      std::size_t limit;
    };
    const File files[] = {
        {"sms_spam/sms_spam.csv", "text", 100000},  {"sst2/dev.tsv", "sentence", 100000},
        {"trec/test.csv", "text", 100000},          {"rt-polarity/rt-polarity.csv", "text", 2000},
        {"ag_news/train_subset.csv", "text", 1500}, {"imdb/test.csv", "text", 300}};
    texts_ = new std::vector<std::string>();
    for (const File& file : files) {
      for (std::string& text : Texts(file.path, file.column, file.limit)) {
        texts_->push_back(std::move(text));
      }
    }
    // Edge cases: Unicode spaces and controls, combining marks, emoji with joiners, CJK, full
    // width, math letters, ligatures, BOM, added tokens in the text, long runs. (Not Greek
    // capital sigma at a word's end: JavaScript lowercases it to final sigma, the Rust library
    // per character to plain sigma, as we do; tokenizer_test checks that.)
    for (const char* text :
         {"a\x0b"
          "b",
          "a\xC2\x85"
          "b c\xC2\xA0"
          "d",
          "x\xE2\x80\xA8y",
          "caf\xC3\xA9 cafe\xCC\x81",
          "emoji \xF0\x9F\x98\x80\xF0\x9F\x91\x8D\xF0\x9F\x8F\xBD family "
          "\xF0\x9F\x91\xA8\xE2\x80\x8D\xF0\x9F\x91\xA9\xE2\x80\x8D\xF0\x9F\x91\xA7",
          "\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E\xE3\x80\x82\xE4\xB8\xAD\xE6\x96\x87\xEF\xBC\x8C",
          "tab\there\r\nnew",
          "<|endoftext|>hello<|endoftext|> <|endoftext|>",
          "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!",
          "   leading and trailing   ",
          "",
          " ",
          "\n\n\n",
          "it's I'M we'LL 'tis",
          "numbers 123456789 \xD9\xA1\xD9\xA2 \xC2\xBD \xC2\xB2",
          "zero\xE2\x80\x8Bwidth\xE2\x80\x8Djoiner",
          "\xEF\xBB\xBF"
          "BOM",
          "control\x01\x1f\x7f chars",
          "\xEF\xBF\xBD replacement",
          "\xEF\xAC\x81 ligature \xE2\x85\xAB",
          "\xC3\x9F stra\xC3\x9F"
          "e \xE1\xBA\x9E",
          "\xEF\xBC\xA6\xEF\xBD\x95\xEF\xBD\x8C\xEF\xBD\x8C",
          "\xCC\x80 lone combining",
          "\xF0\x9D\x94\x98\xF0\x9D\x94\xAB \xF0\x9D\x9F\x99",
          "hello [CLS] [SEP] [MASK] [UNK] [PAD]",
          "a--b__c..d e-mail: foo@bar.com http://x.y/z?q=1&r=2"}) {
      texts_->push_back(text);
    }
    dir_ = new std::filesystem::path(std::filesystem::temp_directory_path() /
                                     ("ft_js_parity_" + std::to_string(::getpid())));
    std::filesystem::create_directories(*dir_);
    std::ofstream all(*dir_ / "texts.jsonl");
    std::ofstream sample(*dir_ / "sample.jsonl");
    for (std::size_t i = 0; i < texts_->size(); ++i) {
      const std::string line = nlohmann::json((*texts_)[i]).dump() + "\n";
      all << line;
      if (i % kStride == 0) sample << line;
    }
  }
  static void TearDownTestSuite() {
    if (dir_ != nullptr) std::filesystem::remove_all(*dir_);
    delete dir_;
    delete texts_;
  }

  static constexpr std::size_t kStride = 5;

  // Runs the JavaScript tokenizer on all texts (or every kStride-th) and compares every text's
  // ids with ours.
  static void Check(const std::string& tokenizer_path, bool sample_only = false) {
    if (texts_ == nullptr) FT_SKIP_PREREQUISITE_MISSING() << "../shared/data absent";
    ASSERT_GE(texts_->size(), 10000u);
    const std::size_t stride = sample_only ? kStride : 1;
    const std::size_t count = (texts_->size() + stride - 1) / stride;
    const std::string ids_path = (*dir_ / "js_ids.jsonl").string();
    const std::string command = std::string("'") + FT_NODE + "' '" + FT_JS_ENCODE_SCRIPT + "' '" +
                                FT_JS_TOKENIZERS + "' '" + tokenizer_path + "' '" +
                                (*dir_ / (sample_only ? "sample.jsonl" : "texts.jsonl")).string() +
                                "' '" + ids_path + "'";
    ASSERT_EQ(std::system(command.c_str()), 0) << command;
    const auto tokenizer = Tokenizer::FromFile(tokenizer_path);
    std::ifstream in(ids_path);
    std::size_t i = 0;
    std::size_t differing = 0;
    for (std::string line; std::getline(in, line); ++i) {
      ASSERT_LT(i, count);
      const std::vector<int64_t> js = nlohmann::json::parse(line).get<std::vector<int64_t>>();
      const std::string& text = (*texts_)[i * stride];
      const std::vector<int64_t> ours = tokenizer->Encode(text);
      if (ours != js && ++differing <= 3) {
        ADD_FAILURE() << tokenizer_path << ": text " << i
                      << " differs: " << nlohmann::json(text).dump().substr(0, 300)
                      << "\n ours: " << nlohmann::json(ours).dump().substr(0, 300)
                      << "\n js:   " << line.substr(0, 300);
      }
    }
    EXPECT_EQ(i, count);
    EXPECT_EQ(differing, 0u) << "of " << count << " texts";
    std::printf("%s: %zu texts, %zu differ\n", tokenizer_path.c_str(), i, differing);
  }

  static std::vector<std::string>* texts_;
  static std::filesystem::path* dir_;
};

std::vector<std::string>* JsParityTest::texts_ = nullptr;
std::filesystem::path* JsParityTest::dir_ = nullptr;

TEST_F(JsParityTest, Gpt2) { Check((SharedData() / "tokenizers/gpt2/tokenizer.json").string()); }

TEST_F(JsParityTest, AllMiniLmL6V2) {
  Check((SharedData() / "tokenizers/all-MiniLM-L6-v2/tokenizer.json").string());
}

TEST_F(JsParityTest, ByteLevelFallback) {
  if (dir_ == nullptr) FT_SKIP_PREREQUISITE_MISSING() << "../shared/data absent";
  const std::string path = (*dir_ / "byte_tokenizer.json").string();
  std::ofstream(path) << ByteTokenizerJson();
  Check(path, /*sample_only=*/true);  // one token per byte: every fifth text suffices
}

// The pre-tokenization of Llama-3, Qwen2 (with NFC) and BLOOM (Split with their regexes, then
// ByteLevel without regex; Llama-3 also ignore_merges and a template adding a start token),
// built on GPT-2's vocabulary and merges since their own files are not on this machine.
TEST_F(JsParityTest, Llama3Qwen2BloomStylePipelines) {
  if (dir_ == nullptr) FT_SKIP_PREREQUISITE_MISSING() << "../shared/data absent";
  std::ifstream in(SharedData() / "tokenizers/gpt2/tokenizer.json");
  const nlohmann::json gpt2 = nlohmann::json::parse(in);
  for (const auto& [name, json] : Gpt2StylePipelines(gpt2)) {
    const std::string path = (*dir_ / (name + ".json")).string();
    std::ofstream(path) << json.dump();
    Check(path, /*sample_only=*/true);
  }
}

}  // namespace
}  // namespace ft::tokenize
