// The job's tokenizer choice (job_tokenizer.h), its token-cache identity, LoadJobData with a model
// folder's tokenizer.json, and the tokenizer files of the output folder (tokenizer_export.h).
// Uses ../shared/data/tokenizers (skipped when absent); no LibTorch headers.
#include "worker/data/job_tokenizer.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "common/tokenize/byte_tokenizer.h"
#include "common/tokenize/tokenizer.h"
#include "tests/support/prerequisite.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/worker/csv_fixture.h"
#include "worker/data/job_data.h"
#include "worker/output/tokenizer_export.h"

namespace ft::train {
namespace {

namespace fs = std::filesystem;
using ft::testing::ReadAll;
using ft::testing::TempDir;
using ft::testing::WriteFile;

fs::path SharedTokenizer(const std::string& name) {
  const char* root = std::getenv("FT_SHARED_DATA");
  if (root == nullptr) return {};
  const fs::path path = fs::path(root) / "tokenizers" / name / "tokenizer.json";
  return fs::exists(path) ? path : fs::path();
}

// A model folder with the MiniLM tokenizer.json and a config.json of `vocab_size`.
fs::path MiniLmFolder(const TempDir& dir, int vocab_size) {
  const fs::path source = SharedTokenizer("all-MiniLM-L6-v2");
  const fs::path folder = dir.path() / "model";
  fs::create_directories(folder);
  fs::copy_file(source, folder / "tokenizer.json", fs::copy_options::overwrite_existing);
  WriteFile(folder / "config.json", "{\"vocab_size\": " + std::to_string(vocab_size) + "}");
  return folder;
}

#define SKIP_WITHOUT_SHARED_TOKENIZERS()           \
  if (SharedTokenizer("all-MiniLM-L6-v2").empty()) \
  FT_SKIP_PREREQUISITE_MISSING() << "../shared/data/tokenizers absent"

TEST(JobTokenizerTest, ChoosesTheFoldersTokenizerJson) {
  SKIP_WITHOUT_SHARED_TOKENIZERS();
  TempDir dir;
  const fs::path folder = MiniLmFolder(dir, 30522);
  EXPECT_EQ(TokenizerFileFor("scratch:bloom-tiny"), "");
  EXPECT_EQ(TokenizerFileFor(dir.Path("missing")), "");
  fs::create_directories(dir.path() / "bare");
  EXPECT_EQ(TokenizerFileFor(dir.Path("bare")), "");
  EXPECT_EQ(TokenizerFileFor(folder.string()), (folder / "tokenizer.json").string());

  JobTokenizer tokenizer = JobTokenizer::ForModel(folder.string());
  tokenizer.Load();
  const auto reference = tokenize::Tokenizer::FromFile((folder / "tokenizer.json").string());
  const int64_t hello = *reference->TokenToId("hello");
  // Truncation keeps [CLS] ... [SEP]; an empty text still has both.
  EXPECT_EQ(tokenizer.Encode("Hello hello hello", 3), (std::vector<int64_t>{101, hello, 102}));
  EXPECT_EQ(tokenizer.Encode("", 8), (std::vector<int64_t>{101, 102}));
}

TEST(JobTokenizerTest, ByteLevelWithoutTokenizerJson) {
  JobTokenizer tokenizer = JobTokenizer::ForModel("scratch:bloom-tiny");
  tokenizer.Load();
  EXPECT_EQ(tokenizer.Encode("ab\xC3\xA9", 3), tokenize::ByteTokenizer().Encode("ab\xC3\xA9", 3));
  EXPECT_EQ(tokenizer.Encode("", 3), std::vector<int64_t>{tokenize::ByteTokenizer::kUnkId});
}

TEST(JobTokenizerTest, CacheIdFollowsTheFilesContent) {
  SKIP_WITHOUT_SHARED_TOKENIZERS();
  TempDir dir;
  const fs::path folder = MiniLmFolder(dir, 30522);
  const std::string bytes_id = JobTokenizer::ForModel("scratch:bloom-tiny").CacheId();
  const std::string first = JobTokenizer::ForModel(folder.string()).CacheId();
  EXPECT_NE(first, bytes_id);
  std::string text = ReadAll(folder / "tokenizer.json");
  const std::string field = "\"max_input_chars_per_word\":100";
  ASSERT_NE(text.find(field), std::string::npos);
  text.replace(text.find(field), field.size(), "\"max_input_chars_per_word\":101");  // same size
  WriteFile(folder / "tokenizer.json", text);
  EXPECT_NE(JobTokenizer::ForModel(folder.string()).CacheId(), first);
}

TEST(JobTokenizerTest, RefusesWhatCannotBeUsed) {
  SKIP_WITHOUT_SHARED_TOKENIZERS();
  TempDir dir;
  const fs::path folder = MiniLmFolder(dir, 1000);
  JobTokenizer small = JobTokenizer::ForModel(folder.string());
  try {
    small.Load();
    ADD_FAILURE() << "a vocabulary larger than vocab_size was accepted";
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find("ids go up to 30521, beyond the vocab_size 1000"),
              std::string::npos)
        << error.what();
  }
  WriteFile(folder / "tokenizer.json", "{\"model\": {\"type\": \"Unigram\"}}");
  JobTokenizer unsupported = JobTokenizer::ForModel(folder.string());
  try {
    unsupported.Load();
    ADD_FAILURE() << "a Unigram model was accepted";
  } catch (const tokenize::TokenizerError& error) {
    EXPECT_EQ(std::string(error.what()),
              (folder / "tokenizer.json").string() + ": model.type \"Unigram\" is not supported");
  }
}

// LoadJobData tokenizes with the folder's tokenizer.json, and the token cache tells it apart
// from the byte-level tokenizer.
TEST(JobTokenizerTest, LoadJobDataUsesTheFoldersTokenizer) {
  SKIP_WITHOUT_SHARED_TOKENIZERS();
  TempDir dir;
  const fs::path folder = MiniLmFolder(dir, 30522);
  WriteFile(dir.path() / "train.csv", ft::testing::SentimentCsv(40, 7));
  TrainOptions options;
  options.model = folder.string();
  options.train_path = dir.Path("train.csv");
  options.validation_fraction = 0.25;
  options.max_seq_length = 6;
  options.token_cache_dir = dir.Path("cache");
  const JobData data = LoadJobData(options);
  ASSERT_EQ(data.train.size(), 30u);
  for (std::size_t i = 0; i < data.train.size(); ++i) {
    const auto ids = data.train.input_ids[i];
    ASSERT_EQ(ids.size(), 6u);
    EXPECT_EQ(ids[0], 101);
    EXPECT_EQ(ids[5], 102);
  }
  EXPECT_EQ(data.token_cache.misses, 2);
  EXPECT_EQ(LoadJobData(options).token_cache.hits, 2);
  TrainOptions bytes = options;
  bytes.model = "scratch:bloom-tiny";
  const JobData byte_data = LoadJobData(bytes);
  EXPECT_EQ(byte_data.token_cache.misses, 2);
  // Every text starts "a ": bytes 4 + 'a' (= 101, as it happens) and 4 + ' '.
  EXPECT_EQ(byte_data.train.input_ids[0][1], tokenize::ByteTokenizer::kByteOffset + ' ');
}

TEST(TokenizerExportTest, ByteLevelFolderIsSelfContained) {
  TempDir dir;
  WriteTokenizerFiles("scratch:bloom-tiny", "", 128, dir.Path("out"));
  const auto tokenizer = tokenize::Tokenizer::FromFile(dir.Path("out/tokenizer.json"));
  const std::string text = "A review<br />with &amp; \x07 bytes \xE2\x80\x94 <s>";
  EXPECT_EQ(tokenizer->Encode(text, 20), tokenize::ByteTokenizer().Encode(text, 20));
  const nlohmann::json config =
      nlohmann::json::parse(ReadAll(dir.path() / "out/tokenizer_config.json"));
  EXPECT_EQ(config["tokenizer_class"], "PreTrainedTokenizerFast");
  EXPECT_EQ(config["model_max_length"], 128);
  EXPECT_EQ(config["pad_token"], "<pad>");
}

TEST(TokenizerExportTest, CopiesTheFoldersTokenizer) {
  SKIP_WITHOUT_SHARED_TOKENIZERS();
  TempDir dir;
  const fs::path folder = MiniLmFolder(dir, 30522);
  WriteTokenizerFiles(folder.string(), "", 128, dir.Path("out"));
  EXPECT_EQ(ReadAll(dir.path() / "out/tokenizer.json"), ReadAll(folder / "tokenizer.json"));
  const nlohmann::json config =
      nlohmann::json::parse(ReadAll(dir.path() / "out/tokenizer_config.json"));
  EXPECT_EQ(config["tokenizer_class"], "PreTrainedTokenizerFast");
  const fs::path gpt2 = SharedTokenizer("gpt2").parent_path();
  WriteTokenizerFiles(gpt2.string(), "", 128, dir.Path("gpt2"));
  EXPECT_EQ(ReadAll(dir.path() / "gpt2/tokenizer_config.json"),
            ReadAll(gpt2 / "tokenizer_config.json"));
  EXPECT_EQ(ReadAll(dir.path() / "gpt2/special_tokens_map.json"),
            ReadAll(gpt2 / "special_tokens_map.json"));
}

}  // namespace
}  // namespace ft::train
