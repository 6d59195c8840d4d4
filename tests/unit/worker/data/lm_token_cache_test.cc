// The token cache for causal-LM jobs (worker/data/token_cache.h, lm_data.h): a cached split holds
// the target mask, the prompt lengths and the notes of tokenizing it, and is keyed by everything
// that changes them (chat template, train_on_prompt, EOS, max_seq_length, files); a damaged entry
// is ignored with a warning; a job trained from the cache ends with the same bytes.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "tests/support/temp_dir.h"
#include "tests/unit/worker/csv_fixture.h"
#include "worker/data/lm_data.h"
#include "worker/train/train_job.h"

namespace ft::train {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kEos = 2;

// A stand-in for the template engine: <role>content| with the assistant's "content|" as target;
// `marker` changes the text, as another template would.
ChatRenderer StandInRenderer(const std::string& marker) {
  ChatRenderer renderer;
  renderer.cache_id = "stand-in " + marker;
  renderer.render = [marker](const std::vector<data::ChatTurn>& turns) {
    RenderedChat chat;
    for (const data::ChatTurn& turn : turns) {
      chat.text += marker + turn.role + ">";
      const std::size_t begin = chat.text.size();
      chat.text += turn.content + "|";
      if (turn.role == "assistant") chat.assistant_spans.push_back({begin, chat.text.size()});
    }
    return chat;
  };
  return renderer;
}

// Every row shape, and one row whose prompt fills max_seq_length (skipped, with a note).
std::string MixedRows(int count) {
  std::string rows;
  for (int i = 0; i < count; ++i) {
    const std::string n = std::to_string(i);
    switch (i % 4) {
      case 0:
        rows += "{\"prompt\": \"Q" + n + "?\", \"completion\": \" a" + n + "\"}\n";
        break;
      case 1:
        rows += "{\"text\": \"plain text " + n + "\"}\n";
        break;
      case 2:
        rows += "{\"messages\": [{\"role\": \"system\", \"content\": \"be brief\"}, {\"role\": "
                "\"user\", \"content\": \"hi " + n + "\"}, {\"role\": \"assistant\", "
                "\"content\": \"yo " + n + "\"}]}\n";
        break;
      default:
        rows += "{\"prompt\": \"" + std::string(80, 'p') + "\", \"completion\": \"x\"}\n";
    }
  }
  return rows;
}

std::string ReadAll(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

void WriteAll(const fs::path& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

void ExpectSameSplit(const TokenizedSplit& a, const TokenizedSplit& b) {
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.source, b.source);
  ASSERT_EQ(a.size(), b.size()) << a.name;
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(std::vector<int64_t>(a.input_ids[i]), std::vector<int64_t>(b.input_ids[i]));
    EXPECT_EQ(std::vector<int64_t>(a.target_mask[i]), std::vector<int64_t>(b.target_mask[i]));
  }
  EXPECT_EQ(a.prompt_tokens, b.prompt_tokens);
  EXPECT_EQ(a.notes, b.notes);
}

void ExpectSameData(const JobData& a, const JobData& b) {
  ExpectSameSplit(a.train, b.train);
  ExpectSameSplit(a.validation, b.validation);
  ExpectSameSplit(a.test, b.test);
  EXPECT_EQ(a.notes, b.notes);
}

class LmTokenCacheTest : public ::testing::Test {
 protected:
  // The files are written once: writing them again would give them a new identity (mtime).
  void SetUp() override {
    train_path_ = dir_.Write("train.jsonl", MixedRows(40));
    test_path_ = dir_.Write("test.jsonl", MixedRows(8));
  }

  TrainOptions Options() const {
    TrainOptions options;
    options.model = "scratch:bloom-tiny";
    options.task = "causal_lm";
    options.train_path = train_path_;
    options.test_path = test_path_;
    options.validation_fraction = 0.25;
    options.max_seq_length = 48;
    options.chat_renderer = StandInRenderer("<");
    options.token_cache_dir = (dir_.path() / "cache").string();
    return options;
  }

  // Loads with the cache and checks the result against a load without it.
  JobData LoadAndCompare(const TrainOptions& options) const {
    TrainOptions uncached = options;
    uncached.token_cache_dir.clear();
    const JobData reference = LoadLmJobData(uncached, kEos);
    JobData data = LoadLmJobData(options, kEos);
    ExpectSameData(data, reference);
    return data;
  }

  std::vector<fs::path> CacheFiles() const {
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(dir_.path() / "cache")) {
      files.push_back(entry.path());
    }
    std::sort(files.begin(), files.end());
    return files;
  }

  ft::testing::TempDir dir_;
  std::string train_path_;
  std::string test_path_;
};

TEST_F(LmTokenCacheTest, SecondLoadMapsTheSameTargetsFromTheCache) {
  const JobData first = LoadAndCompare(Options());
  EXPECT_EQ(first.token_cache.misses, 3);
  EXPECT_EQ(first.token_cache.written, 3);
  EXPECT_TRUE(first.token_cache.warnings.empty());
  ASSERT_FALSE(first.train.notes.empty()) << "the skipped rows are noted";

  const JobData second = LoadAndCompare(Options());
  EXPECT_EQ(second.token_cache.hits, 3);
  EXPECT_EQ(second.token_cache.misses, 0);
  EXPECT_TRUE(second.train.target_mask.mapped());
  EXPECT_TRUE(second.token_cache.warnings.empty());
}

TEST_F(LmTokenCacheTest, WhatChangesTheTargetsMissesTheCache) {
  LoadAndCompare(Options());
  TrainOptions other_template = Options();
  other_template.chat_renderer = StandInRenderer("[");
  TrainOptions on_prompt = Options();
  on_prompt.train_on_prompt = true;
  TrainOptions shorter = Options();
  shorter.max_seq_length = 40;
  for (const TrainOptions* options : {&other_template, &on_prompt, &shorter}) {
    const JobData data = LoadAndCompare(*options);
    EXPECT_EQ(data.token_cache.hits, 0);
    EXPECT_EQ(data.token_cache.misses, 3);
  }
  // Another EOS (another model's config.json) too.
  const JobData no_eos = LoadLmJobData(Options(), std::nullopt);
  EXPECT_EQ(no_eos.token_cache.hits, 0);
  EXPECT_NE(std::vector<int64_t>(no_eos.train.input_ids[0]).back(), kEos);
  // And the first settings still find their own entries.
  EXPECT_EQ(LoadAndCompare(Options()).token_cache.hits, 3);
}

TEST_F(LmTokenCacheTest, ADamagedEntryIsIgnoredWithAWarning) {
  LoadAndCompare(Options());
  const std::vector<fs::path> files = CacheFiles();
  ASSERT_EQ(files.size(), 3u);
  // The last bytes of each file are its target mask.
  std::string bytes = ReadAll(files[0]);
  bytes[bytes.size() - 2] ^= 0x01;
  WriteAll(files[0], bytes);

  const JobData rebuilt = LoadAndCompare(Options());
  EXPECT_EQ(rebuilt.token_cache.hits, 0);
  EXPECT_EQ(rebuilt.token_cache.written, 3);
  ASSERT_EQ(rebuilt.token_cache.warnings.size(), 1u);
  EXPECT_NE(rebuilt.token_cache.warnings[0].find("ignoring"), std::string::npos)
      << rebuilt.token_cache.warnings[0];
  EXPECT_EQ(LoadAndCompare(Options()).token_cache.hits, 3) << "the rebuilt entries are used";
}

TEST_F(LmTokenCacheTest, AJobTrainedFromTheCacheEndsBitIdentical) {
  TrainOptions options;
  options.model = "scratch:bloom-tiny";
  options.task = "causal_lm";
  options.train_path = dir_.Write("questions.jsonl", ft::testing::QuestionRows(24));
  options.validation_fraction = 0.25;
  options.micro_batch_size = 3;
  options.accumulation_steps = 2;
  options.max_seq_length = 32;
  options.learning_rate = 3e-3;
  options.threads = 1;
  options.checkpoint_every_steps = -1;
  options.token_cache_dir = (dir_.path() / "cache").string();
  std::vector<std::string> weights;
  for (const char* run : {"first", "second"}) {
    options.output_dir = (dir_.path() / run).string();
    const TrainOutcome outcome = RunTrainingJob(options, nullptr);
    ASSERT_EQ(outcome.status, TrainOutcome::Status::kSucceeded) << outcome.error;
    weights.push_back(ReadAll(dir_.path() / run / "model.safetensors"));
  }
  const nlohmann::json result =
      nlohmann::json::parse(ReadAll(dir_.path() / "second" / "result.json"));
  EXPECT_EQ(result["pipeline"]["token_cache"]["hits"], 2) << "the second job read the cache";
  ASSERT_FALSE(weights[0].empty());
  EXPECT_TRUE(weights[0] == weights[1]) << "the second job's weights differ";
}

}  // namespace
}  // namespace ft::train
