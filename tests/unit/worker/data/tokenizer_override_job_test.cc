// JobSpec.tokenizer through whole jobs (std-only, no LibTorch headers): a Hugging Face fixture
// model without tokenizer.json (tests/fixtures/hf/models/gpt2, vocab 1000) trained with a small
// word-level tokenizer.json. The job's ids are that tokenizer's, not the byte-level fallback's,
// the exported folder carries the file, and result.json names it.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/support/temp_dir.h"
#include "tests/support/word_level_tokenizer.h"
#include "tests/unit/worker/csv_fixture.h"
#include "worker/data/job_data.h"
#include "worker/train/train_job.h"

namespace ft {
namespace {

namespace fs = std::filesystem;
using testing::ReadAll;

fs::path Gpt2Fixture() {
  const char* source = std::getenv("FT_SOURCE_DIR");
  return fs::path(source != nullptr ? source : FT_SOURCE_DIR_FALLBACK) /
         "tests/fixtures/hf/models/gpt2";
}

class TokenizerOverrideJobTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = temp_.path();
    testing::WriteFile(dir_ / "train.csv", testing::SentimentCsv(24, 5));
    fs::create_directories(dir_ / "words");
    testing::WriteFile(dir_ / "words/tokenizer.json", testing::WordLevelTokenizerJson());
    testing::WriteFile(dir_ / "words/special_tokens_map.json", R"({"unk_token": "[UNK]"})");
  }

  train::TrainOptions Options(const std::string& output) const {
    train::TrainOptions options;
    options.model = Gpt2Fixture().string();
    options.tokenizer = (dir_ / "words").string();
    options.train_path = (dir_ / "train.csv").string();
    options.validation_fraction = 0.25;
    options.micro_batch_size = 6;
    options.epochs = 1;
    options.max_seq_length = 16;
    options.threads = 1;
    options.seed = 2;
    options.checkpoint_every_steps = -1;
    options.output_dir = (dir_ / output).string();
    return options;
  }

  testing::TempDir temp_;
  fs::path dir_;
};

TEST_F(TokenizerOverrideJobTest, TheJobTokenizesWithTheOverride) {
  ASSERT_FALSE(fs::exists(Gpt2Fixture() / "tokenizer.json"));
  const train::TrainOptions options = Options("out");
  const train::JobData data = train::LoadJobData(options);
  // Every text is "a <word> film, <number>": "a" 1, the word 4..11, "film" 2, "," 3, the number
  // [UNK] 0 (the byte-level tokenizer would give 17 ids, from 4 + 'a' = 101 on).
  ASSERT_EQ(data.train.size(), 18u);
  for (std::size_t i = 0; i < data.train.size(); ++i) {
    const std::vector<int64_t> ids = data.train.input_ids[i];
    ASSERT_EQ(ids.size(), 5u) << i;
    EXPECT_EQ(ids[0], 1);
    EXPECT_GE(ids[1], 4);
    EXPECT_LE(ids[1], 11);
    EXPECT_EQ(ids[2], 2);
    EXPECT_EQ(ids[3], 3);
    EXPECT_EQ(ids[4], 0);
  }
  train::TrainOptions bytes = options;
  bytes.tokenizer.clear();
  const std::vector<int64_t> byte_ids = train::LoadJobData(bytes).train.input_ids[0];
  EXPECT_EQ(byte_ids.size(), 16u);  // truncated to max_seq_length
  EXPECT_EQ(byte_ids[0], 4 + 'a');
}

TEST_F(TokenizerOverrideJobTest, TheExportCarriesTheTokenizerAndResultJsonNamesIt) {
  const train::TrainOutcome outcome = train::RunTrainingJob(Options("out"), nullptr);
  ASSERT_EQ(outcome.status, train::TrainOutcome::Status::kSucceeded) << outcome.error;
  EXPECT_EQ(ReadAll(dir_ / "out/tokenizer.json"), ReadAll(dir_ / "words/tokenizer.json"));
  EXPECT_EQ(ReadAll(dir_ / "out/special_tokens_map.json"),
            ReadAll(dir_ / "words/special_tokens_map.json"));
  const nlohmann::json result = nlohmann::json::parse(ReadAll(dir_ / "out/result.json"));
  EXPECT_EQ(result["options"]["tokenizer"], (dir_ / "words").string());
}

}  // namespace
}  // namespace ft
